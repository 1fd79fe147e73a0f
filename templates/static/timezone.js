// herald forms (subscribe, preferences, the console's release editor):
// pre-select the browser's time zone in select#timezone[data-detect] when
// the form is new. The select works without this script.
(function () {
  "use strict";
  var select = document.getElementById("timezone");
  if (!select || !select.hasAttribute("data-detect") || !window.Intl || !Intl.DateTimeFormat) {
    return;
  }
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) {
    return;
  }
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) {
      select.selectedIndex = i;
      return;
    }
  }
  var option = document.createElement("option");
  option.value = zone;
  option.textContent = zone.replace(/_/g, " ");
  select.insertBefore(option, select.firstChild);
  option.selected = true;
})();

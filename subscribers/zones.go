package subscribers

import "strings"

// commonZones are the time zones offered in the forms' select (a fallback
// for browsers without script, which pre-fill the browser's own zone). Any
// zone of the IANA database is accepted; these cover the world's main
// cities, grouped by area.
var commonZones = []string{
	"UTC",
	"Africa/Abidjan", "Africa/Accra", "Africa/Addis_Ababa", "Africa/Algiers", "Africa/Cairo",
	"Africa/Casablanca", "Africa/Dakar", "Africa/Dar_es_Salaam", "Africa/Johannesburg", "Africa/Khartoum",
	"Africa/Kinshasa", "Africa/Lagos", "Africa/Nairobi", "Africa/Niamey", "Africa/Tripoli", "Africa/Tunis",
	"America/Anchorage", "America/Argentina/Buenos_Aires", "America/Bogota", "America/Caracas",
	"America/Chicago", "America/Denver", "America/Guatemala", "America/Halifax", "America/Havana",
	"America/Lima", "America/Los_Angeles", "America/Mexico_City", "America/New_York", "America/Panama",
	"America/Port-au-Prince", "America/Santiago", "America/Sao_Paulo", "America/Tegucigalpa",
	"America/Toronto", "America/Vancouver",
	"Asia/Almaty", "Asia/Amman", "Asia/Baghdad", "Asia/Bangkok", "Asia/Beirut", "Asia/Dhaka",
	"Asia/Dubai", "Asia/Dushanbe", "Asia/Hong_Kong", "Asia/Jakarta", "Asia/Jerusalem", "Asia/Kabul",
	"Asia/Karachi", "Asia/Kathmandu", "Asia/Kolkata", "Asia/Manila", "Asia/Riyadh", "Asia/Seoul",
	"Asia/Shanghai", "Asia/Singapore", "Asia/Tashkent", "Asia/Tehran", "Asia/Tokyo", "Asia/Yangon",
	"Atlantic/Azores", "Atlantic/Cape_Verde", "Atlantic/Reykjavik",
	"Australia/Adelaide", "Australia/Brisbane", "Australia/Perth", "Australia/Sydney",
	"Europe/Amsterdam", "Europe/Athens", "Europe/Berlin", "Europe/Brussels", "Europe/Bucharest",
	"Europe/Dublin", "Europe/Helsinki", "Europe/Istanbul", "Europe/Kyiv", "Europe/Lisbon", "Europe/London",
	"Europe/Madrid", "Europe/Moscow", "Europe/Paris", "Europe/Rome", "Europe/Stockholm", "Europe/Vienna",
	"Europe/Warsaw", "Europe/Zurich",
	"Indian/Maldives", "Indian/Mauritius",
	"Pacific/Auckland", "Pacific/Fiji", "Pacific/Honolulu", "Pacific/Port_Moresby",
}

// ZoneGroup is an area of the time-zone select ("Europe") and its zones.
type ZoneGroup struct {
	Area  string
	Zones []string
}

// CommonZones returns the zones offered in the forms, grouped by area, with
// extra (the subscriber's current zone, or the default) added when it is
// not among them.
func CommonZones(extra ...string) []ZoneGroup {
	zones := append([]string(nil), commonZones...)
	for _, z := range extra {
		if z != "" && !contains(zones, z) {
			zones = append(zones, z)
		}
	}
	var out []ZoneGroup
	for _, z := range zones {
		area, _, ok := strings.Cut(z, "/")
		if !ok {
			area = "UTC"
		}
		i := len(out) - 1
		for ; i >= 0 && out[i].Area != area; i-- {
		}
		if i < 0 {
			out = append(out, ZoneGroup{Area: area})
			i = len(out) - 1
		}
		out[i].Zones = append(out[i].Zones, z)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

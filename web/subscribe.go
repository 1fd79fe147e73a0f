package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"herald/releases"
	"herald/store"
	"herald/subscribers"
)

// The public subscription pages (SPEC 3): /subscribe, /confirm,
// /preferences and /unsubscribe. Links in mail carry signed tokens; the
// token is the only credential, so these pages need no cookie and no CSRF
// token (RFC 8058 one-click unsubscribe must work without either).

// subAssets are the stylesheet and script of the forms.
type subAssets struct {
	FormCSS, Script string
}

type subscribeView struct {
	Page      PageMeta
	Assets    subAssets
	Form      prefsForm
	LangLinks []option
}

type prefsView struct {
	Page   PageMeta
	Assets subAssets
	Form   prefsForm
	Action string // the form's URL, with its token
	Status string // the subscriber's status
	Notice string // what just happened: confirmed, saved, resubscribed
}

type confirmView struct {
	Page   PageMeta
	Action string
	Email  string
}

type unsubscribeView struct {
	Page   PageMeta
	Action string
	Email  string
}

type linkView struct {
	Href, Label string
}

type messageView struct {
	Page        PageMeta
	Title       string
	Message     string
	Links       []linkView
	Resubscribe string // URL of a "subscribe again" button; "" for none
}

func (s *Web) subAssets() subAssets {
	return subAssets{FormCSS: s.staticURL["subscribe.css"], Script: s.staticURL["timezone.js"]}
}

// tokenPage sets the headers of a page reached by a link with a token: never
// cached, never indexed, and the token never leaks in a Referer.
func tokenPage(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex")
}

func (s *Web) message(w http.ResponseWriter, status int, lang, titleKey, msgKey string, links []linkView, resub string) {
	v := messageView{Page: s.meta(lang, T(lang, titleKey)), Title: T(lang, titleKey), Message: T(lang, msgKey), Links: links, Resubscribe: resub}
	if err := s.pages.render(w, status, "message.html", v); err != nil {
		s.log.Error("rendering a page failed", "page", "message.html", "err", err)
	}
}

func (s *Web) subscribeLink(lang string) linkView {
	return linkView{Href: "/subscribe?lang=" + lang, Label: T(lang, "sub_subscribe_again")}
}

func (s *Web) subscribeForm(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r, "")
	tax, err := s.deps.Subscribers.Taxonomy(r.Context())
	if err != nil {
		s.internalError(w, r, lang, err)
		return
	}
	p := subscribers.Prefs{Language: lang, Cadence: subscribers.CadenceDaily, Timezone: s.deps.Subscribers.DefaultTimezone()}
	form := buildForm(tax, lang, "", p)
	form.Detect = true
	s.renderSubscribe(w, http.StatusOK, lang, form)
}

func (s *Web) renderSubscribe(w http.ResponseWriter, status int, lang string, form prefsForm) {
	v := subscribeView{Page: s.meta(lang, T(lang, "sub_title")), Assets: s.subAssets(), Form: form}
	for _, l := range languageNames {
		v.LangLinks = append(v.LangLinks, option{Value: "/subscribe?lang=" + l.code, Label: l.name, Checked: l.code == lang})
	}
	if err := s.pages.render(w, status, "subscribe.html", v); err != nil {
		s.log.Error("rendering a page failed", "page", "subscribe.html", "err", err)
	}
}

// subscribe handles POST /subscribe. Whatever the address (new, pending,
// active, unsubscribed, erased), a valid request gets the same answer.
func (s *Web) subscribe(w http.ResponseWriter, r *http.Request) {
	jsonReq := wantsJSON(r)
	lang := pageLang(r, "")
	if ok, wait := s.subLimit.allow(clientIP(r), time.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		s.subFail(w, http.StatusTooManyRequests, jsonReq, lang, "", "sub_too_many_title", "sub_too_many")
		return
	}
	in, err := readSubmission(w, r)
	if err != nil {
		s.bodyError(w, jsonReq, lang, err)
		return
	}
	if in.Prefs.Language != nil && isPageLang(*in.Prefs.Language) && r.URL.Query().Get("lang") == "" {
		lang = *in.Prefs.Language
	}
	err = s.deps.Subscribers.Subscribe(r.Context(), subscribers.SubscribeRequest{
		Email: in.Email, Prefs: in.Prefs, Consent: subscribers.Consent{IP: clientIP(r), Page: consentPage(r)},
	})
	var ve *subscribers.ValidationError
	switch {
	case errors.As(err, &ve) && jsonReq:
		writeJSONError(w, http.StatusUnprocessableEntity, ve.Error(), ve.Field)
	case errors.As(err, &ve):
		tax, terr := s.deps.Subscribers.Taxonomy(r.Context())
		if terr != nil {
			s.internalError(w, r, lang, terr)
			return
		}
		base := subscribers.Prefs{Language: lang, Cadence: subscribers.CadenceDaily, Timezone: s.deps.Subscribers.DefaultTimezone()}
		form := buildForm(tax, lang, releases.Clip(in.Email, 300), submittedPrefs(base, in.Prefs))
		form.setErrors(lang, err, s.deps.Subscribers.Problems(r.Context(), &in.Email, in.Prefs))
		s.renderSubscribe(w, http.StatusUnprocessableEntity, lang, form)
	case err != nil:
		s.internalError(w, r, lang, err)
	case jsonReq:
		writeJSONBody(w, http.StatusOK, map[string]string{"status": "ok", "message": T(lang, "sub_check_inbox")})
	default:
		s.message(w, http.StatusOK, lang, "sub_check_title", "sub_check_inbox", []linkView{{Href: "/", Label: T(lang, "back_home")}}, "")
	}
}

// consentPage is the page a subscription came from: the Referer when the
// browser sent one (a form embedded elsewhere on the site), else the path.
func consentPage(r *http.Request) string {
	if ref := r.Referer(); ref != "" {
		return ref
	}
	return r.URL.Path
}

func (s *Web) confirmPage(w http.ResponseWriter, r *http.Request) {
	tokenPage(w)
	tok := r.URL.Query().Get("token")
	sub, err := s.deps.Subscribers.ByToken(r.Context(), subscribers.PurposeConfirm, tok)
	if err != nil {
		s.linkError(w, r, false, pageLang(r, ""), err)
		return
	}
	lang := pageLang(r, sub.Language)
	switch sub.Status {
	case store.SubscriberActive:
		s.message(w, http.StatusOK, lang, "sub_confirmed_title", "sub_already_confirmed",
			[]linkView{{Href: s.prefsPath(sub.ID, ""), Label: T(lang, "sub_manage")}}, "")
		return
	case store.SubscriberPending:
	default:
		s.linkError(w, r, false, lang, subscribers.ErrGone)
		return
	}
	v := confirmView{Page: s.meta(lang, T(lang, "sub_confirm_title")), Action: "/confirm?token=" + url.QueryEscape(tok), Email: sub.Email}
	if err := s.pages.render(w, http.StatusOK, "confirm.html", v); err != nil {
		s.log.Error("rendering a page failed", "page", "confirm.html", "err", err)
	}
}

// confirm handles POST /confirm: the button of the confirm page. Only a
// POST confirms, so mail scanners that prefetch links confirm nobody.
func (s *Web) confirm(w http.ResponseWriter, r *http.Request) {
	tokenPage(w)
	sub, err := s.deps.Subscribers.Confirm(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		s.linkError(w, r, false, pageLang(r, ""), err)
		return
	}
	http.Redirect(w, r, s.prefsPath(sub.ID, "confirmed"), http.StatusSeeOther)
}

// prefsPath is the preference centre of a subscriber, with what just
// happened.
func (s *Web) prefsPath(id int64, done string) string {
	p := "/preferences?token=" + s.deps.Subscribers.Tokens().Make(subscribers.PurposePreferences, id)
	if done != "" {
		p += "&done=" + done
	}
	return p
}

func (s *Web) preferencesPage(w http.ResponseWriter, r *http.Request) {
	tokenPage(w)
	tok := r.URL.Query().Get("token")
	sub, err := s.deps.Subscribers.ByToken(r.Context(), subscribers.PurposePreferences, tok)
	if err != nil {
		s.linkError(w, r, false, pageLang(r, ""), err)
		return
	}
	lang := pageLang(r, sub.Language)
	notice := ""
	switch d := r.URL.Query().Get("done"); d {
	case "confirmed", "saved", "resubscribed":
		notice = d
	}
	s.renderPrefs(w, r, http.StatusOK, lang, tok, &sub, storedPrefs(&sub), notice, nil, nil)
}

func (s *Web) renderPrefs(w http.ResponseWriter, r *http.Request, status int, lang, tok string, sub *store.Subscriber, p subscribers.Prefs, notice string, formErr error, all []*subscribers.ValidationError) {
	tax, err := s.deps.Subscribers.Taxonomy(r.Context())
	if err != nil {
		s.internalError(w, r, lang, err)
		return
	}
	form := buildForm(tax, lang, sub.Email, p)
	if formErr != nil {
		form.setErrors(lang, formErr, all)
	}
	v := prefsView{Page: s.meta(lang, T(lang, "sub_prefs_title")), Assets: s.subAssets(), Form: form,
		Action: "/preferences?token=" + url.QueryEscape(tok), Status: sub.Status, Notice: notice}
	if err := s.pages.render(w, status, "preferences.html", v); err != nil {
		s.log.Error("rendering a page failed", "page", "preferences.html", "err", err)
	}
}

// preferences handles POST /preferences: save, unsubscribe from all, or
// subscribe again.
func (s *Web) preferences(w http.ResponseWriter, r *http.Request) {
	tokenPage(w)
	tok := r.URL.Query().Get("token")
	jsonReq := wantsJSON(r)
	in, err := readSubmission(w, r)
	if err != nil {
		s.bodyError(w, jsonReq, pageLang(r, ""), err)
		return
	}
	svc := s.deps.Subscribers
	switch in.Action {
	case "unsubscribe":
		sub, err := svc.Unsubscribe(r.Context(), subscribers.PurposePreferences, tok)
		s.unsubscribed(w, r, jsonReq, sub, err)
		return
	case "resubscribe":
		sub, err := svc.Resubscribe(r.Context(), tok, subscribers.Consent{IP: clientIP(r), Page: r.URL.Path})
		switch {
		case err != nil:
			s.linkError(w, r, jsonReq, pageLang(r, ""), err)
		case jsonReq:
			writeJSONBody(w, http.StatusOK, prefsJSON(&sub))
		default:
			http.Redirect(w, r, s.prefsPath(sub.ID, "resubscribed"), http.StatusSeeOther)
		}
		return
	}
	sub, err := svc.UpdatePreferences(r.Context(), tok, in.Prefs)
	var ve *subscribers.ValidationError
	switch {
	case errors.As(err, &ve) && jsonReq:
		writeJSONError(w, http.StatusUnprocessableEntity, ve.Error(), ve.Field)
	case errors.As(err, &ve):
		cur, gerr := svc.ByToken(r.Context(), subscribers.PurposePreferences, tok)
		if gerr != nil {
			s.linkError(w, r, false, pageLang(r, ""), gerr)
			return
		}
		lang := pageLang(r, cur.Language)
		s.renderPrefs(w, r, http.StatusUnprocessableEntity, lang, tok, &cur, submittedPrefs(storedPrefs(&cur), in.Prefs), "",
			err, svc.Problems(r.Context(), nil, in.Prefs))
	case err != nil:
		s.linkError(w, r, jsonReq, pageLang(r, ""), err)
	case jsonReq:
		writeJSONBody(w, http.StatusOK, prefsJSON(&sub))
	default:
		http.Redirect(w, r, s.prefsPath(sub.ID, "saved"), http.StatusSeeOther)
	}
}

// subscriberPrefsJSON is the JSON answer of the preference centre.
type subscriberPrefsJSON struct {
	Status string `json:"status"`
	subscribers.Prefs
}

func prefsJSON(sub *store.Subscriber) subscriberPrefsJSON {
	p := storedPrefs(sub)
	if p.Topics == nil {
		p.Topics = []string{}
	}
	if p.Regions == nil {
		p.Regions = []string{}
	}
	return subscriberPrefsJSON{Status: sub.Status, Prefs: p}
}

func (s *Web) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	tokenPage(w)
	tok := r.URL.Query().Get("token")
	sub, err := s.deps.Subscribers.ByToken(r.Context(), subscribers.PurposeUnsubscribe, tok)
	if errors.Is(err, subscribers.ErrGone) {
		lang := pageLang(r, "")
		s.message(w, http.StatusOK, lang, "sub_unsubscribed_title", "sub_unsubscribed", []linkView{s.subscribeLink(lang)}, "")
		return
	}
	if err != nil {
		s.linkError(w, r, false, pageLang(r, ""), err)
		return
	}
	lang := pageLang(r, sub.Language)
	if sub.Status == store.SubscriberUnsubscribed || sub.Status == store.SubscriberBounced {
		s.message(w, http.StatusOK, lang, "sub_unsubscribed_title", "sub_already_unsubscribed",
			[]linkView{{Href: s.prefsPath(sub.ID, ""), Label: T(lang, "sub_manage")}}, s.prefsPath(sub.ID, ""))
		return
	}
	v := unsubscribeView{Page: s.meta(lang, T(lang, "sub_unsubscribe_title")), Action: "/unsubscribe?token=" + url.QueryEscape(tok), Email: sub.Email}
	if err := s.pages.render(w, http.StatusOK, "unsubscribe.html", v); err != nil {
		s.log.Error("rendering a page failed", "page", "unsubscribe.html", "err", err)
	}
}

// unsubscribe handles POST /unsubscribe: the page's button, and RFC 8058
// one-click unsubscribe, whose body is "List-Unsubscribe=One-Click" and
// which comes with no cookie: the token alone is enough, and the body is
// not needed.
func (s *Web) unsubscribe(w http.ResponseWriter, r *http.Request) {
	tokenPage(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	sub, err := s.deps.Subscribers.Unsubscribe(r.Context(), subscribers.PurposeUnsubscribe, r.URL.Query().Get("token"))
	s.unsubscribed(w, r, wantsJSON(r), sub, err)
}

// unsubscribed answers an unsubscribe: what happened, and a way back.
func (s *Web) unsubscribed(w http.ResponseWriter, r *http.Request, jsonReq bool, sub store.Subscriber, err error) {
	lang := pageLang(r, sub.Language)
	switch {
	case errors.Is(err, subscribers.ErrGone) && jsonReq:
		writeJSONBody(w, http.StatusOK, map[string]string{"status": store.SubscriberUnsubscribed})
	case errors.Is(err, subscribers.ErrGone):
		s.message(w, http.StatusOK, lang, "sub_unsubscribed_title", "sub_unsubscribed", []linkView{s.subscribeLink(lang)}, "")
	case err != nil:
		s.linkError(w, r, jsonReq, lang, err)
	case jsonReq:
		writeJSONBody(w, http.StatusOK, prefsJSON(&sub))
	default:
		s.message(w, http.StatusOK, lang, "sub_unsubscribed_title", "sub_unsubscribed",
			[]linkView{{Href: s.prefsPath(sub.ID, ""), Label: T(lang, "sub_manage")}}, s.prefsPath(sub.ID, ""))
	}
}

// linkError answers a bad, expired or stale link (SPEC 3: 400 for a
// malformed or forged token, 410 for an expired confirmation), or 500.
func (s *Web) linkError(w http.ResponseWriter, r *http.Request, jsonReq bool, lang string, err error) {
	status, title, msg := 0, "", ""
	switch {
	case errors.Is(err, subscribers.ErrBadToken):
		status, title, msg = http.StatusBadRequest, "sub_bad_link_title", "sub_bad_link"
	case errors.Is(err, subscribers.ErrTokenExpired):
		status, title, msg = http.StatusGone, "sub_expired_title", "sub_expired"
	case errors.Is(err, subscribers.ErrGone):
		status, title, msg = http.StatusGone, "sub_gone_title", "sub_gone"
	default:
		s.internalError(w, r, lang, err)
		return
	}
	s.subFail(w, status, jsonReq, lang, "token", title, msg)
}

// subFail answers an error as JSON or as a page with a way to subscribe.
func (s *Web) subFail(w http.ResponseWriter, status int, jsonReq bool, lang, field, titleKey, msgKey string) {
	if jsonReq {
		writeJSONError(w, status, T(lang, msgKey), field)
		return
	}
	s.message(w, status, lang, titleKey, msgKey, []linkView{s.subscribeLink(lang)}, "")
}

func (s *Web) bodyError(w http.ResponseWriter, jsonReq bool, lang string, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.subFail(w, http.StatusRequestEntityTooLarge, jsonReq, lang, "", "sub_bad_request_title", "sub_too_large")
		return
	}
	s.subFail(w, http.StatusBadRequest, jsonReq, lang, "", "sub_bad_request_title", "sub_bad_request")
}

func (s *Web) internalError(w http.ResponseWriter, r *http.Request, lang string, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	if wantsJSON(r) {
		writeJSONError(w, http.StatusInternalServerError, "internal error; see the server log", "")
		return
	}
	s.message(w, http.StatusInternalServerError, lang, "sub_internal_title", "sub_internal", nil, "")
}

package public

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"herald/releases"
	"herald/store"
	"herald/subscribers"
	"herald/web/ui"
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
	Page      ui.PageMeta
	Assets    subAssets
	Form      prefsForm
	POW       bool   // the form needs the proof-of-work script
	POWScript string // its URL
}

type prefsView struct {
	Page   ui.PageMeta
	Assets subAssets
	Form   prefsForm
	Action string // the form's URL, with its token
	Data   string // "Download my data", with the token
	Delete string // "Delete me", with the token
	Status string // the subscriber's status
	Notice string // what just happened: confirmed, saved, resubscribed
}

type confirmView struct {
	Page   ui.PageMeta
	Action string
	Email  string
}

type unsubscribeView struct {
	Page   ui.PageMeta
	Action string
	Email  string
}

type linkView struct {
	Href, Label string
}

type messageView struct {
	Page        ui.PageMeta
	Title       string
	Message     string
	Links       []linkView
	Resubscribe string // URL of a "subscribe again" button; "" for none
}

func (s *Site) subAssets() subAssets {
	return subAssets{FormCSS: s.deps.Static.URL("subscribe.css"), Script: s.deps.Static.URL("timezone.js")}
}

// tokenPage sets the headers of a page reached by a link with a token: never
// cached, never indexed, and the token never leaks in a Referer.
func tokenPage(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex")
}

// message shows a page of one message in lang, with links onwards and an
// optional "subscribe again" button.
func (s *Site) message(w http.ResponseWriter, r *http.Request, status int, lang, titleKey, msgKey string, links []linkView, resub string) error {
	v := messageView{Page: s.page(w, r, lang, ui.T(lang, titleKey)), Title: ui.T(lang, titleKey), Message: ui.T(lang, msgKey), Links: links, Resubscribe: resub}
	return s.pages.Render(w, status, "message.html", v)
}

func (s *Site) subscribeLink(lang string) linkView {
	return linkView{Href: "/subscribe?lang=" + lang, Label: ui.T(lang, "sub_subscribe_again")}
}

func (s *Site) subscribeForm(w http.ResponseWriter, r *http.Request) error {
	lang := pageLang(r, "")
	tax, err := s.deps.Subscribers.Taxonomy(r.Context())
	if err != nil {
		return err
	}
	p := subscribers.Prefs{Language: lang, Cadence: subscribers.CadenceDaily, Timezone: s.deps.Subscribers.DefaultTimezone()}
	// ?topics=&regions= (the form's own fields) come ticked: a topic's or
	// region's page links here with its term (SPEC 10); unknown slugs
	// match no box and are dropped.
	q := r.URL.Query()
	p.Topics, p.Regions = queryList(q["topics"]), queryList(q["regions"])
	form := buildForm(tax, lang, "", p)
	form.Detect = true
	return s.renderSubscribe(w, r, http.StatusOK, lang, form)
}

func (s *Site) renderSubscribe(w http.ResponseWriter, r *http.Request, status int, lang string, form prefsForm) error {
	v := subscribeView{Page: s.page(w, r, lang, ui.T(lang, "sub_title")), Assets: s.subAssets(), Form: form,
		POW: s.deps.Subscribers.POWRequired(), POWScript: s.deps.Static.URL("altcha.js")}
	return s.pages.Render(w, status, "subscribe.html", v)
}

// subscribe handles POST /subscribe. Whatever the address (new, pending,
// active, unsubscribed, erased), a valid request gets the same answer.
func (s *Site) subscribe(w http.ResponseWriter, r *http.Request) error {
	jsonReq := ui.WantsJSON(r)
	lang := pageLang(r, "")
	if ok, wait := s.subLimit.Allow(ui.ClientIP(r), time.Now()); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return ui.NewError(http.StatusTooManyRequests, ui.CodeTooMany, "Too many requests came from your network.")
	}
	in, err := readSubmission(w, r)
	if err != nil {
		return err
	}
	if in.Prefs.Language != nil && ui.IsPageLang(*in.Prefs.Language) && r.URL.Query().Get("lang") == "" {
		lang = *in.Prefs.Language
	}
	err = s.deps.Subscribers.Subscribe(r.Context(), subscribers.SubscribeRequest{
		Email: in.Email, Prefs: in.Prefs, Consent: subscribers.Consent{IP: ui.ClientIP(r), Page: consentPage(r)},
		POW: in.Altcha, Honeypot: in.Honeypot,
	})
	var ve *subscribers.ValidationError
	switch {
	case errors.As(err, &ve) && !jsonReq:
		tax, terr := s.deps.Subscribers.Taxonomy(r.Context())
		if terr != nil {
			return ui.WithLang(lang, terr)
		}
		base := subscribers.Prefs{Language: lang, Cadence: subscribers.CadenceDaily, Timezone: s.deps.Subscribers.DefaultTimezone()}
		form := buildForm(tax, lang, releases.Clip(in.Email, 300), submittedPrefs(base, in.Prefs))
		form.setErrors(lang, err, s.deps.Subscribers.Problems(r.Context(), &in.Email, in.Prefs))
		return s.renderSubscribe(w, r, http.StatusUnprocessableEntity, lang, form)
	case err != nil:
		return ui.WithLang(lang, err)
	case jsonReq:
		ui.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "message": ui.T(lang, "sub_check_inbox")})
		return nil
	}
	return s.message(w, r, http.StatusOK, lang, "sub_check_title", "sub_check_inbox", []linkView{{Href: "/", Label: ui.T(lang, "back_home")}}, "")
}

// consentPage is the page a subscription came from: the Referer when the
// browser sent one (a form embedded elsewhere on the site), else the path.
func consentPage(r *http.Request) string {
	if ref := r.Referer(); ref != "" {
		return ref
	}
	return r.URL.Path
}

func (s *Site) confirmPage(w http.ResponseWriter, r *http.Request) error {
	tokenPage(w)
	tok := r.URL.Query().Get("token")
	sub, err := s.deps.Subscribers.ByToken(r.Context(), subscribers.PurposeConfirm, tok)
	if err != nil {
		return err
	}
	lang := pageLang(r, sub.Language)
	switch sub.Status {
	case store.SubscriberActive:
		return s.message(w, r, http.StatusOK, lang, "sub_confirmed_title", "sub_already_confirmed",
			[]linkView{{Href: s.prefsPath(sub.ID, ""), Label: ui.T(lang, "sub_manage")}}, "")
	case store.SubscriberPending:
	default:
		return ui.WithLang(lang, subscribers.ErrGone)
	}
	v := confirmView{Page: s.page(w, r, lang, ui.T(lang, "sub_confirm_title")), Action: "/confirm?token=" + url.QueryEscape(tok), Email: sub.Email}
	return s.pages.Render(w, http.StatusOK, "confirm.html", v)
}

// confirm handles POST /confirm: the button of the confirm page. Only a
// POST confirms, so mail scanners that prefetch links confirm nobody.
func (s *Site) confirm(w http.ResponseWriter, r *http.Request) error {
	tokenPage(w)
	sub, err := s.deps.Subscribers.Confirm(r.Context(), r.URL.Query().Get("token"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, s.prefsPath(sub.ID, "confirmed"), http.StatusSeeOther)
	return nil
}

// prefsPath is the preference centre of a subscriber, with what just
// happened.
func (s *Site) prefsPath(id int64, done string) string {
	p := "/preferences?token=" + s.deps.Subscribers.Tokens().Make(subscribers.PurposePreferences, id)
	if done != "" {
		p += "&done=" + done
	}
	return p
}

func (s *Site) preferencesPage(w http.ResponseWriter, r *http.Request) error {
	tokenPage(w)
	tok := r.URL.Query().Get("token")
	sub, err := s.deps.Subscribers.ByToken(r.Context(), subscribers.PurposePreferences, tok)
	if err != nil {
		return err
	}
	lang := pageLang(r, sub.Language)
	notice := ""
	switch d := r.URL.Query().Get("done"); d {
	case "confirmed", "saved", "resubscribed":
		notice = d
	}
	return s.renderPrefs(w, r, prefsPage{status: http.StatusOK, lang: lang, token: tok, sub: &sub, prefs: storedPrefs(&sub), notice: notice})
}

// prefsPage is what the preference centre shows.
type prefsPage struct {
	status      int
	lang, token string
	sub         *store.Subscriber
	prefs       subscribers.Prefs // as stored, or as submitted with errors
	notice      string
	formErr     error // the error that stopped a save, nil for none
	all         []*subscribers.ValidationError
}

func (s *Site) renderPrefs(w http.ResponseWriter, r *http.Request, p prefsPage) error {
	tax, err := s.deps.Subscribers.Taxonomy(r.Context())
	if err != nil {
		return ui.WithLang(p.lang, err)
	}
	form := buildForm(tax, p.lang, p.sub.Email, p.prefs)
	if p.formErr != nil {
		form.setErrors(p.lang, p.formErr, p.all)
	}
	v := prefsView{Page: s.page(w, r, p.lang, ui.T(p.lang, "sub_prefs_title")), Assets: s.subAssets(), Form: form,
		Action: "/preferences?token=" + url.QueryEscape(p.token), Status: p.sub.Status, Notice: p.notice,
		Data: "/preferences/data?token=" + url.QueryEscape(p.token), Delete: "/preferences/delete?token=" + url.QueryEscape(p.token)}
	return s.pages.Render(w, p.status, "preferences.html", v)
}

// preferences handles POST /preferences: save, unsubscribe from all, or
// subscribe again.
func (s *Site) preferences(w http.ResponseWriter, r *http.Request) error {
	tokenPage(w)
	tok := r.URL.Query().Get("token")
	jsonReq := ui.WantsJSON(r)
	in, err := readSubmission(w, r)
	if err != nil {
		return err
	}
	svc := s.deps.Subscribers
	switch in.Action {
	case "unsubscribe":
		sub, err := svc.Unsubscribe(r.Context(), subscribers.PurposePreferences, tok)
		return s.unsubscribed(w, r, sub, err)
	case "resubscribe":
		sub, err := svc.Resubscribe(r.Context(), tok, subscribers.Consent{IP: ui.ClientIP(r), Page: r.URL.Path})
		switch {
		case err != nil:
			return err
		case jsonReq:
			ui.WriteJSON(w, http.StatusOK, prefsJSON(&sub))
		default:
			http.Redirect(w, r, s.prefsPath(sub.ID, "resubscribed"), http.StatusSeeOther)
		}
		return nil
	}
	sub, err := svc.UpdatePreferences(r.Context(), tok, in.Prefs)
	var ve *subscribers.ValidationError
	switch {
	case errors.As(err, &ve) && !jsonReq:
		cur, gerr := svc.ByToken(r.Context(), subscribers.PurposePreferences, tok)
		if gerr != nil {
			return gerr
		}
		return s.renderPrefs(w, r, prefsPage{status: http.StatusUnprocessableEntity, lang: pageLang(r, cur.Language), token: tok,
			sub: &cur, prefs: submittedPrefs(storedPrefs(&cur), in.Prefs), formErr: err, all: svc.Problems(r.Context(), nil, in.Prefs)})
	case err != nil:
		return err
	case jsonReq:
		ui.WriteJSON(w, http.StatusOK, prefsJSON(&sub))
	default:
		http.Redirect(w, r, s.prefsPath(sub.ID, "saved"), http.StatusSeeOther)
	}
	return nil
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

func (s *Site) unsubscribePage(w http.ResponseWriter, r *http.Request) error {
	tokenPage(w)
	tok := r.URL.Query().Get("token")
	sub, err := s.deps.Subscribers.ByToken(r.Context(), subscribers.PurposeUnsubscribe, tok)
	if errors.Is(err, subscribers.ErrGone) {
		lang := pageLang(r, "")
		return s.message(w, r, http.StatusOK, lang, "sub_unsubscribed_title", "sub_unsubscribed", []linkView{s.subscribeLink(lang)}, "")
	}
	if err != nil {
		return err
	}
	lang := pageLang(r, sub.Language)
	if sub.Status == store.SubscriberUnsubscribed || sub.Status == store.SubscriberBounced {
		return s.message(w, r, http.StatusOK, lang, "sub_unsubscribed_title", "sub_already_unsubscribed",
			[]linkView{{Href: s.prefsPath(sub.ID, ""), Label: ui.T(lang, "sub_manage")}}, s.prefsPath(sub.ID, ""))
	}
	v := unsubscribeView{Page: s.page(w, r, lang, ui.T(lang, "sub_unsubscribe_title")), Action: "/unsubscribe?token=" + url.QueryEscape(tok), Email: sub.Email}
	return s.pages.Render(w, http.StatusOK, "unsubscribe.html", v)
}

// unsubscribe handles POST /unsubscribe: the page's button, and RFC 8058
// one-click unsubscribe, whose body is "List-Unsubscribe=One-Click" and
// which comes with no cookie: the token alone is enough, and the body is
// not needed.
func (s *Site) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	tokenPage(w)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	sub, err := s.deps.Subscribers.Unsubscribe(r.Context(), subscribers.PurposeUnsubscribe, r.URL.Query().Get("token"))
	return s.unsubscribed(w, r, sub, err)
}

// unsubscribed answers an unsubscribe: what happened, and a way back. An
// address already gone is unsubscribed all the same.
func (s *Site) unsubscribed(w http.ResponseWriter, r *http.Request, sub store.Subscriber, err error) error {
	lang := pageLang(r, sub.Language)
	jsonReq := ui.WantsJSON(r)
	switch {
	case errors.Is(err, subscribers.ErrGone) && jsonReq:
		ui.WriteJSON(w, http.StatusOK, map[string]string{"status": store.SubscriberUnsubscribed})
		return nil
	case errors.Is(err, subscribers.ErrGone):
		return s.message(w, r, http.StatusOK, lang, "sub_unsubscribed_title", "sub_unsubscribed", []linkView{s.subscribeLink(lang)}, "")
	case err != nil:
		return err
	case jsonReq:
		ui.WriteJSON(w, http.StatusOK, prefsJSON(&sub))
		return nil
	}
	return s.message(w, r, http.StatusOK, lang, "sub_unsubscribed_title", "sub_unsubscribed",
		[]linkView{{Href: s.prefsPath(sub.ID, ""), Label: ui.T(lang, "sub_manage")}}, s.prefsPath(sub.ID, ""))
}

// queryList reads repeated or comma-separated values of a query parameter.
func queryList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" && len(out) < 100 {
				out = append(out, x)
			}
		}
	}
	return out
}

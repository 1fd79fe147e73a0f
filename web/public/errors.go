package public

import (
	"fmt"
	"net/http"
	"strings"

	"herald/web/ui"
)

// The responders of the public site: how each kind of page shows an error
// that ui.Resolve has mapped (ui/errors.go). Release pages show error.html,
// subscription pages a message in the visitor's language with a way to
// subscribe again (or JSON, for JSON requests), feeds a line of plain text.

// errorView is the data of error.html.
type errorView struct {
	Page    ui.PageMeta
	Title   string
	Message string
}

// pageError answers an error of the newsroom's pages (home, archive,
// terms, search, releases) in the visitor's language. A 400 says what was
// wrong with the query (Msg is written for the client, in English).
func (s *Site) pageError(w http.ResponseWriter, r *http.Request, e *ui.Error) {
	lang := pageLang(r, e.Lang)
	title, msg := http.StatusText(e.Status), e.Msg
	switch {
	case e.Status >= http.StatusInternalServerError:
		title, msg = ui.T(lang, "err_internal_title"), ui.T(lang, "err_internal")
	case e.Code == ui.CodeNotFound && strings.HasPrefix(r.URL.Path, "/releases/"):
		title, msg = ui.T(lang, "err_release_not_found_title"), ui.T(lang, "err_release_not_found")
	case e.Code == ui.CodeNotFound:
		title, msg = ui.T(lang, "err_not_found_title"), ui.T(lang, "err_not_found")
	case e.Field == "cursor":
		title, msg = ui.T(lang, "err_bad_request_title"), ui.T(lang, "err_bad_cursor")
	case e.Status == http.StatusBadRequest:
		title = ui.T(lang, "err_bad_request_title")
	}
	if msg == "" {
		msg = ui.T(lang, "err_bad_request")
	}
	w.Header().Set("Cache-Control", "no-store")
	v := errorView{Page: s.page(w, r, lang, title), Title: title, Message: msg}
	if err := s.pages.Render(w, e.Status, "error.html", v); err != nil {
		s.log.Error("rendering the error page failed", "err", err)
		http.Error(w, fmt.Sprintf("%d %s", e.Status, title), e.Status)
	}
}

// subscriptionMessages are the title and message keys (ui.T) of the
// subscription pages' errors, by code; other codes read as internal.
var subscriptionMessages = map[string][2]string{
	ui.CodeBadLink:    {"sub_bad_link_title", "sub_bad_link"},
	ui.CodeExpired:    {"sub_expired_title", "sub_expired"},
	ui.CodeGone:       {"sub_gone_title", "sub_gone"},
	ui.CodeNotFound:   {"sub_gone_title", "sub_gone"},
	ui.CodeTooMany:    {"sub_too_many_title", "sub_too_many"},
	ui.CodeTooLarge:   {"sub_bad_request_title", "sub_too_large"},
	ui.CodeBadRequest: {"sub_bad_request_title", "sub_bad_request"},
	ui.CodeInvalid:    {"sub_bad_request_title", "sub_bad_request"},
}

// subscriptionError answers an error of /subscribe, /confirm, /preferences
// and /unsubscribe (SPEC 3: 400 for a malformed or forged token, 410 for an
// expired confirmation, 429 past the rate limit), in the page's language.
func (s *Site) subscriptionError(w http.ResponseWriter, r *http.Request, e *ui.Error) {
	lang := pageLang(r, e.Lang)
	keys, known := subscriptionMessages[e.Code]
	if !known {
		keys = [2]string{"sub_internal_title", "sub_internal"}
	}
	if ui.WantsJSON(r) {
		msg := ui.T(lang, keys[1])
		switch {
		case !known:
			msg = "internal error; see the server log"
		case e.Code == ui.CodeInvalid:
			msg = e.Msg
		}
		ui.WriteJSONError(w, e.Status, msg, e.Field)
		return
	}
	var links []linkView
	if known {
		links = []linkView{s.subscribeLink(lang)}
	}
	if err := s.message(w, r, e.Status, lang, keys[0], keys[1], links, ""); err != nil {
		s.log.Error("rendering the error page failed", "err", err)
		http.Error(w, fmt.Sprintf("%d %s", e.Status, ui.T(lang, keys[0])), e.Status)
	}
}

// feedError answers a feed query herald cannot serve with a plain-text
// message: 404 for an unknown topic, region or language, 400 for a
// malformed value (a bad limit), 500 otherwise.
func feedError(w http.ResponseWriter, r *http.Request, e *ui.Error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	switch e.Code {
	case ui.CodeNotFound:
		_, _ = w.Write([]byte("404 not found: " + e.Msg + "\n"))
	case ui.CodeBadRequest:
		_, _ = w.Write([]byte("400 bad request: " + e.Msg + "\n"))
	default:
		_, _ = fmt.Fprintf(w, "%d %s\n", e.Status, "internal error")
	}
}

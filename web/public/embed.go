package public

import (
	"net/http"
	"slices"
	"strings"

	"herald/web/ui"
)

// Embedding the subscribe form on the organization's own pages (SPEC 11,
// HERALD_FORM_ORIGINS): those origins may show GET /subscribe in a frame
// (CSP frame-ancestors), and their scripts may call GET /subscribe/challenge
// and POST /subscribe with JSON (CORS, preflight included). Every other
// origin keeps the defaults: no framing, no CORS headers.

// corsMaxAge is how long a browser may keep a preflight's answer.
const corsMaxAge = "600"

func (s *Site) allowedOrigin(origin string) bool {
	return origin != "" && slices.Contains(s.opts.FormOrigins, strings.ToLower(origin))
}

// embeddable adds, for the configured origins, the frame-ancestors that let
// them frame the page and the CORS headers that let their scripts read the
// answer.
func (s *Site) embeddable(next http.HandlerFunc) http.HandlerFunc {
	if len(s.opts.FormOrigins) == 0 {
		return next
	}
	csp := strings.Replace(ui.DefaultCSP, "frame-ancestors 'none'", "frame-ancestors 'self' "+strings.Join(s.opts.FormOrigins, " "), 1)
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Del("X-Frame-Options") // it cannot name origins; frame-ancestors governs
		h.Add("Vary", "Origin")
		if o := r.Header.Get("Origin"); s.allowedOrigin(o) {
			h.Set("Access-Control-Allow-Origin", o)
		}
		next(w, r)
	}
}

// preflight answers a CORS preflight of /subscribe or its challenge: 204
// with the permissions for a configured origin, 403 without any for others.
func (s *Site) preflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Add("Vary", "Origin")
	o := r.Header.Get("Origin")
	if !s.allowedOrigin(o) {
		http.Error(w, "This origin may not use the subscribe form (HERALD_FORM_ORIGINS).", http.StatusForbidden)
		return
	}
	h.Set("Access-Control-Allow-Origin", o)
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Accept")
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
}

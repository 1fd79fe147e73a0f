package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"herald/audit"
	"herald/staff"
	"herald/web/ui"
)

// OIDCOptions configure single sign-on with OpenID Connect (SPEC 7.2):
// the authorization code flow with PKCE, state and nonce, redirecting back
// to BASE/admin/oidc/callback.
type OIDCOptions struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RoleClaim names the ID token claim with the person's groups
	// ("groups"; "realm_access.roles" for a nested one).
	RoleClaim string
	// Roles maps groups to roles; the highest mapped role wins.
	Roles map[string]staff.Role
	// HTTPClient talks to the provider; default http.DefaultClient.
	HTTPClient *http.Client
}

// ssoCookie carries the flow's state, nonce and PKCE verifier between the
// redirect to the provider and the callback, signed, for 10 minutes: any
// instance can finish the flow that another began.
const (
	ssoCookie = "herald_oidc"
	ssoTTL    = 10 * time.Minute
)

// ssoFlow is the signed content of the flow cookie.
type ssoFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"x"`
	Expires  int64  `json:"e"`
}

// sso is the single sign-on client: the provider is discovered on first
// use (and again after a failure), so that herald starts while the
// provider is down.
type sso struct {
	opts OIDCOptions
	mu   sync.Mutex
	prov *oidc.Provider
}

func (s *sso) ctx(ctx context.Context) context.Context {
	if s.opts.HTTPClient != nil {
		return oidc.ClientContext(ctx, s.opts.HTTPClient)
	}
	return ctx
}

func (s *sso) provider(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prov != nil {
		return s.prov, nil
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(s.ctx(dctx), s.opts.Issuer)
	if err != nil {
		return nil, err
	}
	s.prov = p
	return p, nil
}

func (a *Console) oauthConfig(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: a.sso.opts.ClientID, ClientSecret: a.sso.opts.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: strings.TrimRight(a.opts.BaseURL, "/") + "/admin/oidc/callback",
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email"}}
}

// ssoEnabled reports whether single sign-on is configured.
func (a *Console) ssoEnabled() bool { return a.sso != nil }

// registerSSO adds the single sign-on routes when it is configured.
func (a *Console) registerSSO(mux *http.ServeMux) {
	if a.sso == nil {
		return
	}
	mux.HandleFunc("GET /admin/oidc/login", a.errs.Handle(a.errorPage, a.ssoStart))
	mux.HandleFunc("GET /admin/oidc/callback", a.errs.Handle(a.errorPage, a.ssoCallback))
}

func randomString() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ssoStart: GET /admin/oidc/login sends the browser to the provider.
func (a *Console) ssoStart(w http.ResponseWriter, r *http.Request) error {
	adminHeaders(w)
	p, err := a.sso.provider(r.Context())
	if err != nil {
		a.log.Error("single sign-on: the provider cannot be reached", "issuer", a.sso.opts.Issuer, "err", err)
		return ui.NewError(http.StatusServiceUnavailable, ui.CodeInternal,
			"Single sign-on is unavailable: the identity provider cannot be reached or is misconfigured. Try again later, or log in with a password.")
	}
	f := ssoFlow{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(),
		Next: safeNext(r.URL.Query().Get("next")), Expires: a.now().Add(ssoTTL).Unix()}
	payload, _ := json.Marshal(f)
	value := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(a.mac("oidc", payload))
	// Lax, not Strict: the cookie must come back with the provider's
	// redirect, a top-level navigation from another site.
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: value, Path: "/admin/oidc", HttpOnly: true, Secure: a.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(ssoTTL.Seconds())})
	url := a.oauthConfig(p).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	http.Redirect(w, r, url, http.StatusSeeOther)
	return nil
}

// readFlow returns the request's genuine, unexpired flow cookie.
func (a *Console) readFlow(r *http.Request) (ssoFlow, bool) {
	var f ssoFlow
	c, err := r.Cookie(ssoCookie)
	if err != nil || len(c.Value) > 1000 {
		return f, false
	}
	p, sig, ok := strings.Cut(c.Value, ".")
	if !ok {
		return f, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || subtle.ConstantTimeCompare(got, a.mac("oidc", payload)) != 1 {
		return f, false
	}
	if json.Unmarshal(payload, &f) != nil || a.now().Unix() > f.Expires {
		return f, false
	}
	return f, true
}

// ssoRefused is a callback that signs nobody in; msg is for the person.
type ssoRefused struct {
	status int
	msg    string
	why    string // for the log and the audit entry
}

func (e *ssoRefused) Error() string { return e.why }

// ssoCallback: GET /admin/oidc/callback finishes the flow: state checked
// against the cookie, the code exchanged with the PKCE verifier, the ID
// token verified (signature, issuer, audience, expiry) and its nonce
// checked, the role found from the groups; then a session. Every refusal
// is logged, audited and counted against the client's login limit.
func (a *Console) ssoCallback(w http.ResponseWriter, r *http.Request) error {
	adminHeaders(w)
	ip := ui.ClientIP(r)
	now := a.now()
	if wait := a.logins.Wait(ip, now); wait > 0 {
		return ui.NewError(http.StatusTooManyRequests, ui.CodeTooMany,
			"Too many failed attempts from your network. Wait a little, then try again.")
	}
	// The flow cookie is single use.
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Path: "/admin/oidc", MaxAge: -1, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
	p, epoch, next, err := a.ssoFinish(r)
	var refused *ssoRefused
	if errors.As(err, &refused) {
		a.logins.Take(ip, now)
		a.log.Warn("single sign-on refused", "ip", ip, "why", refused.why)
		ctx := audit.WithActor(r.Context(), audit.Actor{Name: "anonymous", Kind: audit.KindSystem, IP: ip})
		a.deps.Audit.Record(ctx, audit.Entry{Action: "login.failure", Target: "oidc", Details: map[string]any{"method": "oidc", "reason": refused.why}})
		return ui.NewError(refused.status, ui.CodeForbidden, refused.msg)
	}
	if err != nil {
		return err
	}
	return a.startSession(w, r, p, epoch, next, "oidc")
}

func (a *Console) ssoFinish(r *http.Request) (staff.Principal, int64, string, error) {
	again := " Start again from the login page."
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return staff.Principal{}, 0, "", &ssoRefused{http.StatusUnauthorized, "The identity provider did not sign you in." + again, "provider error " + clipText(e, 60)}
	}
	f, ok := a.readFlow(r)
	if !ok {
		return staff.Principal{}, 0, "", &ssoRefused{http.StatusBadRequest, "This sign-in has expired or was not started here." + again, "no valid flow cookie"}
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return staff.Principal{}, 0, "", &ssoRefused{http.StatusBadRequest, "This sign-in does not match the one started here." + again, "state mismatch"}
	}
	prov, err := a.sso.provider(r.Context())
	if err != nil {
		return staff.Principal{}, 0, "", &ssoRefused{http.StatusServiceUnavailable, "Single sign-on is unavailable." + again, "discovery: " + clipText(err.Error(), 200)}
	}
	ctx := a.sso.ctx(r.Context())
	tok, err := a.oauthConfig(prov).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return staff.Principal{}, 0, "", &ssoRefused{http.StatusUnauthorized, "The identity provider refused the sign-in." + again, "code exchange: " + clipText(err.Error(), 200)}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return staff.Principal{}, 0, "", &ssoRefused{http.StatusUnauthorized, "The identity provider sent no ID token." + again, "no id_token"}
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: a.sso.opts.ClientID, Now: a.now}).Verify(ctx, raw)
	if err != nil {
		return staff.Principal{}, 0, "", &ssoRefused{http.StatusUnauthorized, "The identity provider's answer could not be verified." + again, "id token: " + clipText(err.Error(), 200)}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return staff.Principal{}, 0, "", &ssoRefused{http.StatusUnauthorized, "The identity provider's answer does not match this sign-in." + again, "nonce mismatch"}
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return staff.Principal{}, 0, "", fmt.Errorf("admin: oidc claims: %w", err)
	}
	email, _ := claims["email"].(string)
	if v, ok := claims["email_verified"].(bool); ok && !v {
		email = ""
	}
	name, _ := claims["name"].(string)
	role := a.ssoRole(claims)
	p, epoch, err := a.deps.Staff.SignInSSO(r.Context(), email, name, role)
	switch {
	case errors.Is(err, staff.ErrSSORefused):
		return staff.Principal{}, 0, "", &ssoRefused{http.StatusForbidden,
			"Your account at the identity provider is not in any group that has a role in this console. Ask an administrator.", err.Error()}
	case err != nil:
		return staff.Principal{}, 0, "", err
	}
	return p, epoch, f.Next, nil
}

// ssoRole is the highest role of the groups in the role claim (a list of
// strings, or one string); RoleNone when none is mapped.
func (a *Console) ssoRole(claims map[string]any) staff.Role {
	var v any = claims
	for _, part := range strings.Split(a.sso.opts.RoleClaim, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return staff.RoleNone
		}
		v = m[part]
	}
	var groups []string
	switch g := v.(type) {
	case string:
		groups = strings.Fields(strings.ReplaceAll(g, ",", " "))
	case []any:
		for _, x := range g {
			if s, ok := x.(string); ok {
				groups = append(groups, s)
			}
		}
	}
	best := staff.RoleNone
	for _, g := range groups {
		best = max(best, a.sso.opts.Roles[g], a.sso.opts.Roles[strings.TrimPrefix(g, "/")])
	}
	return best
}

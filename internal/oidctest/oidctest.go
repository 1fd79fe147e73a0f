// Package oidctest runs a real OpenID Connect provider in the test
// process, built with github.com/zitadel/oidc's op package: discovery,
// keys, the authorization endpoint with PKCE, the token endpoint, signed
// ID tokens. Its login step signs in whichever user the test chose, and
// its knobs make the next ID token wrong on purpose (nonce, audience,
// lifetime), so that a relying party's checks can be tested end to end.
//
//	op := oidctest.New(t, oidctest.Options{ClientID: "herald", ClientSecret: "s3cret",
//		RedirectURI: base + "/admin/oidc/callback"})
//	op.SignInAs(oidctest.User{Email: "ana@example.org", Groups: []string{"press"}})
//	// point the relying party at op.Issuer, then follow its redirects
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Options configure the provider's one client.
type Options struct {
	ClientID     string
	ClientSecret string
	RedirectURI  string
	// Issuer overrides the issuer the provider announces (default its own
	// URL): a provider that names another issuer than the one asked for.
	Issuer string
}

// User is who signs in at the login step.
type User struct {
	Subject string // default the email
	Email   string
	Name    string
	Groups  []string
}

// Tamper spoils the next ID token: a nonce other than the one asked for,
// a token issued to another client of the provider (its audience is that
// client, not the relying party), or a lifetime (negative: already
// expired).
type Tamper struct {
	Nonce    string
	ClientID string
	Lifetime time.Duration
}

// Server is the running provider.
type Server struct {
	// Issuer is the URL to configure as the relying party's issuer.
	Issuer string

	opts     Options
	srv      *httptest.Server
	provider *op.Provider
	key      *rsa.PrivateKey

	mu       sync.Mutex
	user     User
	tamper   Tamper
	requests map[string]*authRequest
	codes    map[string]string // code -> request id
	logins   int
}

// New starts a provider on 127.0.0.1, stopped at cleanup.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{opts: o, key: key, requests: map[string]*authRequest{}, codes: map[string]string{}}
	s.srv = httptest.NewUnstartedServer(nil)
	s.Issuer = "http://" + s.srv.Listener.Addr().String()
	issuer := s.Issuer
	if o.Issuer != "" {
		issuer = o.Issuer
	}
	cfg := &op.Config{CryptoKey: sha256.Sum256([]byte("oidctest")), CodeMethodS256: true, AuthMethodPost: true}
	s.provider, err = op.NewProvider(cfg, &storage{s}, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/login", op.NewIssuerInterceptor(s.provider.IssuerFromRequest).HandlerFunc(s.login))
	mux.Handle("/", s.provider)
	s.srv.Config.Handler = mux
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// SignInAs sets who the login step signs in.
func (s *Server) SignInAs(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.Subject == "" {
		u.Subject = u.Email
	}
	s.user = u
}

// SetTamper spoils the ID tokens from now on (Tamper{} restores them).
func (s *Server) SetTamper(t Tamper) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tamper = t
}

// Logins counts completed login steps.
func (s *Server) Logins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logins
}

// login is the provider's login page: it signs in the chosen user at once
// and sends the browser on to the provider's callback.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	s.mu.Lock()
	req, ok := s.requests[id]
	if ok {
		req.subject, req.done, req.authTime = s.user.Subject, true, time.Now()
		s.logins++
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "unknown auth request", http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(s.provider)(r.Context(), id), http.StatusFound)
}

// authRequest is one authorization request (op.AuthRequest).
type authRequest struct {
	id, clientID, redirectURI, state, nonce, subject string
	scopes                                           []string
	responseType                                     oidc.ResponseType
	responseMode                                     oidc.ResponseMode
	challenge                                        *oidc.CodeChallenge
	audience                                         []string
	done                                             bool
	authTime                                         time.Time
}

func (a *authRequest) GetID() string                         { return a.id }
func (a *authRequest) GetACR() string                        { return "" }
func (a *authRequest) GetAMR() []string                      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string                 { return a.audience }
func (a *authRequest) GetAuthTime() time.Time                { return a.authTime }
func (a *authRequest) GetClientID() string                   { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }
func (a *authRequest) GetNonce() string                      { return a.nonce }
func (a *authRequest) GetRedirectURI() string                { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType    { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode    { return a.responseMode }
func (a *authRequest) GetScopes() []string                   { return a.scopes }
func (a *authRequest) GetState() string                      { return a.state }
func (a *authRequest) GetSubject() string                    { return a.subject }
func (a *authRequest) Done() bool                            { return a.done }

// client is the provider's one confidential web client (op.Client).
type client struct {
	s        *Server
	id       string
	lifetime time.Duration
}

func (c *client) GetID() string                    { return c.id }
func (c *client) RedirectURIs() []string           { return []string{c.s.opts.RedirectURI} }
func (c *client) PostLogoutRedirectURIs() []string { return nil }
func (c *client) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeWeb
}
func (c *client) AuthMethod() oidc.AuthMethod { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode}
}
func (c *client) LoginURL(id string) string            { return "/login?id=" + id }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration       { return c.lifetime }
func (c *client) DevMode() bool                        { return true }
func (c *client) IsScopeAllowed(string) bool           { return true }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

type signingKey struct{ k *rsa.PrivateKey }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.k }
func (k signingKey) ID() string                                  { return "oidctest" }

type publicKey struct{ k *rsa.PublicKey }

func (k publicKey) ID() string                         { return "oidctest" }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return k.k }

var errUnsupported = errors.New("oidctest: not supported")

// storage is the provider's storage (op.Storage), in memory.
type storage struct{ s *Server }

func (st *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	s := st.s
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &authRequest{id: rand.Text(), clientID: r.ClientID, redirectURI: r.RedirectURI, state: r.State, nonce: r.Nonce,
		scopes: r.Scopes, responseType: r.ResponseType, responseMode: r.ResponseMode}
	if r.CodeChallenge != "" {
		a.challenge = &oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}
	}
	// The knobs act on the token this request will give.
	if s.tamper.Nonce != "" {
		a.nonce = s.tamper.Nonce
	}
	if s.tamper.ClientID != "" {
		a.clientID = s.tamper.ClientID
	}
	a.audience = []string{a.clientID}
	s.requests[a.id] = a
	return a, nil
}

func (st *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	st.s.mu.Lock()
	defer st.s.mu.Unlock()
	if a, ok := st.s.requests[id]; ok {
		return a, nil
	}
	return nil, errors.New("oidctest: no such auth request")
}

func (st *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	st.s.mu.Lock()
	id, ok := st.s.codes[code]
	st.s.mu.Unlock()
	if !ok {
		return nil, errors.New("oidctest: no such code")
	}
	return st.AuthRequestByID(ctx, id)
}

func (st *storage) SaveAuthCode(_ context.Context, id, code string) error {
	st.s.mu.Lock()
	defer st.s.mu.Unlock()
	st.s.codes[code] = id
	return nil
}

func (st *storage) DeleteAuthRequest(_ context.Context, id string) error {
	st.s.mu.Lock()
	defer st.s.mu.Unlock()
	delete(st.s.requests, id)
	for c, rid := range st.s.codes {
		if rid == id {
			delete(st.s.codes, c)
		}
	}
	return nil
}

func (st *storage) CreateAccessToken(context.Context, op.TokenRequest) (string, time.Time, error) {
	return rand.Text(), time.Now().Add(5 * time.Minute), nil
}

func (st *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnsupported
}

func (st *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errUnsupported
}
func (st *storage) TerminateSession(context.Context, string, string) error { return nil }
func (st *storage) RevokeToken(context.Context, string, string, string) *oidc.Error {
	return nil
}
func (st *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}
func (st *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{st.s.key}, nil
}
func (st *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}
func (st *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{&st.s.key.PublicKey}}, nil
}

func (st *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	st.s.mu.Lock()
	defer st.s.mu.Unlock()
	t := st.s.tamper
	if id != st.s.opts.ClientID && (t.ClientID == "" || id != t.ClientID) {
		return nil, errors.New("oidctest: unknown client")
	}
	life := time.Hour
	if t.Lifetime != 0 {
		life = t.Lifetime
	}
	// With Tamper.ClientID, the relying party's credentials stand for the
	// other client: its code, and so its ID token, belong to that client.
	cid := st.s.opts.ClientID
	if t.ClientID != "" {
		cid = t.ClientID
	}
	return &client{s: st.s, id: cid, lifetime: life}, nil
}

func (st *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != st.s.opts.ClientID || secret != st.s.opts.ClientSecret {
		return errors.New("oidctest: wrong client secret")
	}
	return nil
}

func (st *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest puts the signed-in user's address, name and
// groups into the ID token.
func (st *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, _ op.IDTokenRequest, _ []string) error {
	st.s.mu.Lock()
	u := st.s.user
	st.s.mu.Unlock()
	ui.Subject = u.Subject
	ui.Email, ui.EmailVerified = u.Email, true
	ui.Name = u.Name
	if u.Groups != nil {
		ui.AppendClaims("groups", u.Groups)
	}
	return nil
}

func (st *storage) SetUserinfoFromToken(context.Context, *oidc.UserInfo, string, string, string) error {
	return nil
}
func (st *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnsupported
}
func (st *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}
func (st *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}
func (st *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errUnsupported
}
func (st *storage) Health(context.Context) error { return nil }

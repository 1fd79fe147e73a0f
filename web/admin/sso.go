package admin

import "net/http"

// ssoEnabled reports whether single sign-on is configured.
func (a *Console) ssoEnabled() bool { return false }

// registerSSO adds the single sign-on routes when it is configured.
func (a *Console) registerSSO(mux *http.ServeMux) {}

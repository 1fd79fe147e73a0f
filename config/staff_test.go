package config_test

import (
	"net/netip"
	"strings"
	"testing"
)

func TestLoad_OIDC(t *testing.T) {
	env := map[string]string{"HERALD_OIDC_ISSUER": "https://sso.example.org/realms/press", "HERALD_OIDC_CLIENT_ID": "herald",
		"HERALD_OIDC_CLIENT_SECRET": "s3cret", "HERALD_OIDC_ROLES": "press-editors=Editor, /press/admins=admin"}
	c, err := load(t, env)
	if err != nil {
		t.Fatal(err)
	}
	o := c.OIDC
	if o == nil || o.Issuer != "https://sso.example.org/realms/press" || o.RoleClaim != "groups" || o.Roles["press-editors"] != "editor" ||
		o.Roles["/press/admins"] != "admin" || len(o.Roles) != 2 {
		t.Fatalf("oidc = %+v", o)
	}
	if c, _ := load(t, nil); c.OIDC != nil {
		t.Fatal("SSO on without an issuer")
	}
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"unknown role":   {map[string]string{"HERALD_OIDC_ROLES": "press=owner"}, `HERALD_OIDC_ROLES: unknown role "owner"`},
		"not a pair":     {map[string]string{"HERALD_OIDC_ROLES": "press"}, `HERALD_OIDC_ROLES: "press" is not group=role`},
		"no secret":      {map[string]string{"HERALD_OIDC_CLIENT_SECRET": ""}, "HERALD_OIDC_CLIENT_SECRET: must be set"},
		"bad issuer":     {map[string]string{"HERALD_OIDC_ISSUER": "sso.example.org"}, "HERALD_OIDC_ISSUER:"},
		"roles, no sso":  {map[string]string{"HERALD_OIDC_ISSUER": "", "HERALD_OIDC_CLIENT_ID": "", "HERALD_OIDC_CLIENT_SECRET": ""}, "HERALD_OIDC_ISSUER: must be set"},
		"bad proxy list": {map[string]string{"HERALD_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"}, `HERALD_TRUSTED_PROXIES: "proxy.local"`},
		"bad metrics":    {map[string]string{"HERALD_METRICS_ALLOW": "everyone"}, "HERALD_METRICS_ALLOW:"},
	} {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range tc.env {
			e[k] = v
		}
		if _, err := load(t, e); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

func TestLoad_ProxiesAndMetrics(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 0 || c.MetricsAny || len(c.MetricsAllow) != 2 || !c.MetricsAllow[1].Contains(netip.MustParseAddr("::1")) {
		t.Fatalf("defaults: %v %v %v", c.TrustedProxies, c.MetricsAny, c.MetricsAllow)
	}
	c, err = load(t, map[string]string{"HERALD_TRUSTED_PROXIES": "10.1.2.3, 192.168.0.0/16", "HERALD_METRICS_ALLOW": "Any"})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.TrustedProxies) != 2 || c.TrustedProxies[0].String() != "10.1.2.3/32" || !c.MetricsAny {
		t.Fatalf("got %v %v", c.TrustedProxies, c.MetricsAny)
	}
}

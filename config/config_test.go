package config_test

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/config"
)

func load(t *testing.T, env map[string]string, args ...string) (config.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l := config.Bind(fs, func(k string) string { return env[k] })
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return l.Load()
}

func TestLoad_Defaults(t *testing.T) {
	c, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.BaseURL != "http://127.0.0.1:8080" || c.DataDir != "./herald-data" ||
		c.DB != filepath.Join("herald-data", "herald.db") || c.SMTP != nil || c.From.Address != "press@localhost" ||
		c.From.Name != "Press Office" || c.SiteName != "Press Office" || c.Location.String() != "UTC" ||
		c.DigestDaily != "0 7 * * *" || c.DigestWeekly != "0 7 * * 1" || c.SendConcurrency != 4 ||
		c.SendRate != 0 || c.RetryMin != time.Minute || c.AlertMaxAge != 24*time.Hour || c.LogFormat != "text" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestLoad_FlagsWinOverEnv(t *testing.T) {
	env := map[string]string{"HERALD_ADDR": "127.0.0.1:1", "HERALD_SEND_RATE": "10", "HERALD_TZ": "Europe/Paris", "HERALD_BASE_URL": "https://press.example.org/"}
	c, err := load(t, env, "--addr", "127.0.0.1:2")
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:2" || c.SendRate != 10 || c.Location.String() != "Europe/Paris" || c.BaseURL != "https://press.example.org" {
		t.Fatalf("got addr %s rate %v tz %v base %s", c.Addr, c.SendRate, c.Location, c.BaseURL)
	}
}

func TestLoad_Integrations(t *testing.T) {
	c, err := load(t, nil)
	if err != nil || c.OutboundAllowPrivate || len(c.WebSubHubs) != 0 {
		t.Fatalf("defaults: %v %v %v", c.OutboundAllowPrivate, c.WebSubHubs, err)
	}
	c, err = load(t, map[string]string{"HERALD_WEBSUB_HUBS": " https://pubsubhubbub.appspot.com/ , https://hub.example.org/x"},
		"--outbound-allow-private=true")
	if err != nil || !c.OutboundAllowPrivate || len(c.WebSubHubs) != 2 || c.WebSubHubs[1] != "https://hub.example.org/x" {
		t.Fatalf("got %v %q %v", c.OutboundAllowPrivate, c.WebSubHubs, err)
	}
}

func TestLoad_Errors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // the setting named in the error
	}{
		{"cron", map[string]string{"HERALD_DIGEST_DAILY": "every day"}, nil, "HERALD_DIGEST_DAILY"},
		{"weekly cron", map[string]string{"HERALD_DIGEST_WEEKLY": "0 7 * * 9"}, nil, "HERALD_DIGEST_WEEKLY"},
		{"tz", map[string]string{"HERALD_TZ": "Mars/Olympus"}, nil, "HERALD_TZ"},
		{"smtp scheme", map[string]string{"HERALD_SMTP_URL": "http://mail.example.org"}, nil, "HERALD_SMTP_URL"},
		{"smtp tls", map[string]string{"HERALD_SMTP_URL": "smtp://mail.example.org?tls=maybe"}, nil, "HERALD_SMTP_URL"},
		{"smtp port", map[string]string{"HERALD_SMTP_URL": "smtp://mail.example.org:99999"}, nil, "HERALD_SMTP_URL"},
		{"from", map[string]string{"HERALD_FROM": "not an address"}, nil, "HERALD_FROM"},
		{"base url", map[string]string{"HERALD_BASE_URL": "press.example.org"}, nil, "HERALD_BASE_URL"},
		{"concurrency", map[string]string{"HERALD_SEND_CONCURRENCY": "0"}, nil, "HERALD_SEND_CONCURRENCY"},
		{"rate", map[string]string{"HERALD_SEND_RATE": "-1"}, nil, "HERALD_SEND_RATE"},
		{"retry", map[string]string{"HERALD_RETRY_MIN": "soon"}, nil, "HERALD_RETRY_MIN"},
		{"max age", map[string]string{"HERALD_ALERT_MAX_AGE": "0s"}, nil, "HERALD_ALERT_MAX_AGE"},
		{"log format", map[string]string{"HERALD_LOG_FORMAT": "xml"}, nil, "HERALD_LOG_FORMAT"},
		{"allow private", map[string]string{"HERALD_OUTBOUND_ALLOW_PRIVATE": "sometimes"}, nil, "HERALD_OUTBOUND_ALLOW_PRIVATE"},
		{"websub hubs", map[string]string{"HERALD_WEBSUB_HUBS": "https://hub.example.org/, ftp://x"}, nil, "HERALD_WEBSUB_HUBS"},
		{"postgres without host", map[string]string{"HERALD_DB": "postgres:///herald"}, nil, "HERALD_DB"},
		{"db scheme", map[string]string{"HERALD_DB": "mysql://db/herald"}, nil, "HERALD_DB"},
		{"named by flag when set by flag", nil, []string{"--tz", "Nowhere/Land"}, "--tz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.env, tt.args...)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want+":") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line starting with %s:", err, tt.want)
			}
		})
	}
}

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		in   string
		want config.SMTP
	}{
		{"smtp://mail.example.org", config.SMTP{Host: "mail.example.org", Port: 25, TLS: "opportunistic"}},
		{"smtp://u%40x:p%3Ass@mail.example.org:587?tls=mandatory", config.SMTP{Host: "mail.example.org", Port: 587, Username: "u@x", Password: "p:ss", TLS: "mandatory"}},
		{"smtp://127.0.0.1:2525?tls=none", config.SMTP{Host: "127.0.0.1", Port: 2525, TLS: "none"}},
		{"smtps://u:p@mail.example.org", config.SMTP{Host: "mail.example.org", Port: 465, Username: "u", Password: "p", TLS: "implicit"}},
	}
	for _, tt := range tests {
		got, err := config.ParseSMTPURL(tt.in)
		if err != nil || *got != tt.want {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	_, err := config.ParseSMTPURL("smtp://user:secret@:25")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("no host: err = %v (must not leak the password)", err)
	}
}

func TestDataDir_SecretAndAdminToken(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c, err := load(t, map[string]string{"HERALD_DATA_DIR": dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PrepareDataDir(); err != nil {
		t.Fatal(err)
	}
	key1, err := c.Secret()
	if err != nil || len(key1) != 32 {
		t.Fatalf("secret: %d bytes, %v", len(key1), err)
	}
	key2, _ := c.Secret()
	if string(key1) != string(key2) {
		t.Fatal("secret changed between calls")
	}
	path, generated, err := c.ResolveAdminToken()
	if err != nil || !generated || c.AdminToken == "" {
		t.Fatalf("admin token: %q %v %v", path, generated, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin-token mode: %v %v", st.Mode(), err)
	}
	c2 := c
	c2.AdminToken = ""
	if _, generated, _ := c2.ResolveAdminToken(); generated || c2.AdminToken != c.AdminToken {
		t.Fatal("admin token not reused on the next start")
	}
}

func TestPrepareDataDir_Unwritable(t *testing.T) {
	// A path under a regular file cannot be created, even by root.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := load(t, map[string]string{"HERALD_DATA_DIR": filepath.Join(file, "data")})
	if err := c.PrepareDataDir(); err == nil || !strings.HasPrefix(err.Error(), "HERALD_DATA_DIR:") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoad_BaseURLFromAddr(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"defaults", nil, nil, "http://127.0.0.1:8080"},
		{"addr flag", nil, []string{"--addr", "127.0.0.1:9090"}, "http://127.0.0.1:9090"},
		{"addr env", map[string]string{"HERALD_ADDR": "127.0.0.1:9091"}, nil, "http://127.0.0.1:9091"},
		{"empty host", nil, []string{"--addr", ":9092"}, "http://127.0.0.1:9092"},
		{"all IPv4", nil, []string{"--addr", "0.0.0.0:9093"}, "http://127.0.0.1:9093"},
		{"all IPv6", nil, []string{"--addr", "[::]:9094"}, "http://127.0.0.1:9094"},
		{"IPv6 loopback", nil, []string{"--addr", "[::1]:9095"}, "http://[::1]:9095"},
		{"host name", nil, []string{"--addr", "localhost:9096"}, "http://localhost:9096"},
		{"port 0 keeps the default", nil, []string{"--addr", "127.0.0.1:0"}, "http://127.0.0.1:8080"},
		{"named port keeps the default", nil, []string{"--addr", "127.0.0.1:http"}, "http://127.0.0.1:8080"},
		{"base url env wins", map[string]string{"HERALD_BASE_URL": "https://press.example.org"}, []string{"--addr", "127.0.0.1:9097"}, "https://press.example.org"},
		{"base url flag wins", nil, []string{"--addr", "127.0.0.1:9098", "--base-url", "https://news.example.org/"}, "https://news.example.org"},
		{"base url set to the default stays", map[string]string{"HERALD_BASE_URL": "http://127.0.0.1:8080"}, []string{"--addr", "127.0.0.1:9099"}, "http://127.0.0.1:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(t, tt.env, tt.args...)
			if err != nil || c.BaseURL != tt.want {
				t.Fatalf("BaseURL = %q, %v; want %q", c.BaseURL, err, tt.want)
			}
		})
	}
}

func TestBind_UsageHidesSecrets(t *testing.T) {
	env := map[string]string{
		"HERALD_ADMIN_TOKEN": "supersecret",
		"HERALD_SMTP_URL":    "smtp://user:p4ssw0rd@host:587",
		"HERALD_DB":          "postgres://dbuser:dbp4ss@db/herald",
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var out strings.Builder
	fs.SetOutput(&out)
	l := config.Bind(fs, func(k string) string { return env[k] })
	fs.PrintDefaults()
	l.PrintSettings(&out)
	if err := fs.Parse([]string{"-h"}); err != flag.ErrHelp {
		t.Fatalf("-h: %v", err)
	}
	for _, secret := range []string{"supersecret", "p4ssw0rd", "dbp4ss"} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("usage shows %q:\n%s", secret, out.String())
		}
	}
	for _, want := range []string{`smtp://user:***@host:587`, "--admin-token", "$HERALD_ADMIN_TOKEN (not shown)", "$HERALD_SEND_RATE"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, out.String())
		}
	}
	// The values themselves still work.
	fs = flag.NewFlagSet("test", flag.ContinueOnError)
	delete(env, "HERALD_DB")
	c, err := config.Bind(fs, func(k string) string { return env[k] }).Load()
	if err != nil || c.AdminToken != "supersecret" || c.SMTP == nil || c.SMTP.Password != "p4ssw0rd" {
		t.Fatalf("config = %+v, %v", c, err)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"smtp://user:p4ssw0rd@host:587", "smtp://user:***@host:587"},
		{"smtps://u%40x:p%3Ass@mail.example.org?tls=none", "smtps://u%40x:***@mail.example.org?tls=none"},
		{"smtp://user@host:25", "smtp://user@host:25"},
		{"smtp://host:25", "smtp://host:25"},
		{"smtp://user:pa ss@ho st:%zz", "***"},
		{"127.0.0.1:8080", "127.0.0.1:8080"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := config.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestConfig_NameBySourceOfSetting(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := load(t, nil, "--data-dir", filepath.Join(file, "data"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Name("HERALD_DATA_DIR") != "--data-dir" || c.Name("HERALD_ADDR") != "HERALD_ADDR" {
		t.Fatalf("names: %q %q", c.Name("HERALD_DATA_DIR"), c.Name("HERALD_ADDR"))
	}
	if err := c.PrepareDataDir(); err == nil || !strings.HasPrefix(err.Error(), "--data-dir:") {
		t.Fatalf("err = %v, want it to name --data-dir", err)
	}
}

func TestLoad_SubscriberSettings(t *testing.T) {
	c, err := load(t, nil)
	if err != nil || !c.Welcome || !c.SignupPOW || !c.FeedFastPath || c.SignupAllow != nil || c.FormOrigins != nil {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	c, err = load(t, map[string]string{"HERALD_WELCOME": "false", "HERALD_SIGNUP_DOMAINS_ALLOW": "*.gov, Example.org",
		"HERALD_SIGNUP_DOMAINS_BLOCK": "spam.example", "HERALD_FEED_FASTPATH": "false"}, "--signup-pow=false", "--form-origins", "https://WWW.example.org/")
	if err != nil || c.Welcome || c.SignupPOW || c.FeedFastPath || len(c.SignupAllow) != 2 || c.SignupAllow[1] != "example.org" ||
		len(c.SignupBlock) != 1 || len(c.FormOrigins) != 1 || c.FormOrigins[0] != "https://www.example.org" {
		t.Fatalf("set: %+v %v", c, err)
	}
	for env, v := range map[string]string{"HERALD_WELCOME": "maybe", "HERALD_SIGNUP_POW": "2", "HERALD_SIGNUP_DOMAINS_ALLOW": "*.", "HERALD_SIGNUP_DOMAINS_BLOCK": "a b/c",
		"HERALD_FORM_ORIGINS": "www.example.org", "HERALD_FEED_FASTPATH": "fast"} {
		if _, err := load(t, map[string]string{env: v}); err == nil || !strings.Contains(err.Error(), env) {
			t.Errorf("%s=%q: %v, want an error naming it", env, v, err)
		}
	}
}

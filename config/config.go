// Package config reads herald's settings from the environment and from
// command-line flags (flags win) and validates them, naming the setting in
// every error (SPEC 1). It imports only the standard library, and only cmd
// imports it: each component gets its own options struct.
package config

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Defaults (SPEC 1).
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultBaseURL         = "http://127.0.0.1:8080"
	DefaultDataDir         = "./herald-data"
	DefaultFrom            = "Press Office <press@localhost>"
	DefaultSiteName        = "Press Office"
	DefaultTZ              = "UTC"
	DefaultDigestDaily     = "0 7 * * *"
	DefaultDigestWeekly    = "0 7 * * 1"
	DefaultSendConcurrency = 4
	DefaultSendRate        = 0
	DefaultRetryMin        = time.Minute
	DefaultAlertMaxAge     = 24 * time.Hour
	DefaultLogFormat       = "text"
	DefaultBackupKeep      = 7
	DefaultRetention       = 30 * 24 * time.Hour
	DefaultOIDCRoleClaim   = "groups"
	DefaultMetricsAllow    = "127.0.0.0/8,::1"
	DefaultSoftBounceLimit = 5
)

// Config is every setting of herald, validated.
type Config struct {
	Addr            string
	BaseURL         string // no trailing slash
	DataDir         string
	DB              string
	SMTP            *SMTP // nil: write mail to the Maildir
	From            *mail.Address
	SiteName        string
	AdminToken      string // "" until ResolveAdminToken
	Location        *time.Location
	DigestDaily     string
	DigestWeekly    string
	SendConcurrency int
	SendRate        float64 // messages per second; 0 = no limit
	RetryMin        time.Duration
	AlertMaxAge     time.Duration
	Retention       time.Duration // handled events, finished deliveries, jobs and runs are pruned after this
	LogFormat       string        // text | json
	// OutboundAllowPrivate lets herald's own requests (ingest, WebSub,
	// webhooks) reach loopback, link-local and private addresses.
	OutboundAllowPrivate bool
	// WebSubHubs are external WebSub hubs told hub.mode=publish when a
	// feed changes (SPEC 9.2).
	WebSubHubs []string

	// Subscribers (SPEC 11).
	Welcome       bool     // HERALD_WELCOME: a welcome mail after confirmation
	SignupPOW     bool     // HERALD_SIGNUP_POW: POST /subscribe needs a proof of work
	FeedFastPath  bool     // HERALD_FEED_FASTPATH: cached feeds answered ahead of net/http
	SignupAllow   []string // HERALD_SIGNUP_DOMAINS_ALLOW: domain patterns ("*.gov", "example.org"); empty allows all
	SignupBlock   []string // HERALD_SIGNUP_DOMAINS_BLOCK
	FormOrigins   []string // HERALD_FORM_ORIGINS: origins that may embed the form or POST to /subscribe
	DKIM          []DKIMKey
	BounceAddress string // "" when no VERP envelope sender
	// Bounces and complaints that arrive later (SPEC 8.3).
	BounceMailbox     string // HERALD_BOUNCE_MAILBOX: imaps://user:pass@host:993/INBOX, imap://, pop3s://, pop3://; "" for none
	BounceDoneFolder  string // HERALD_BOUNCE_DONE_FOLDER: IMAP folder processed mail is moved to; "" deletes it
	SoftBounceLimit   int    // HERALD_SOFT_BOUNCE_LIMIT: soft bounces within 30 days that make a bounce
	WebhookSecret     string // HERALD_WEBHOOK_SECRET: Postmark's basic-auth password
	SendGridPublicKey string // HERALD_SENDGRID_PUBLIC_KEY: base64 DER ECDSA key of SendGrid's signed event webhook
	MailgunSigningKey string // HERALD_MAILGUN_SIGNING_KEY
	BackupCron        string // "" for no scheduled backups
	BackupKeep        int    // scheduled backups kept, newest first
	// OIDC is single sign-on (SPEC 7.2); nil when HERALD_OIDC_ISSUER is
	// not set.
	OIDC *OIDC
	// TrustedProxies are the peers whose X-Forwarded-For / Forwarded
	// headers are believed (SPEC 7.4); empty: none.
	TrustedProxies []netip.Prefix
	// MetricsAllow are the clients that may read /metrics; MetricsAny
	// opens it to all (`any`).
	MetricsAllow []netip.Prefix
	MetricsAny   bool

	names map[string]string // HERALD_X -> --x, for the settings given as flags
}

// Name is how messages call a setting: by its flag (--addr) when the flag
// was given, else by its environment variable (HERALD_ADDR).
func (c Config) Name(env string) string {
	if n, ok := c.names[env]; ok {
		return n
	}
	return env
}

// DKIMKey is one entry of HERALD_DKIM: selector:domain:keyfile (SPEC 8.1).
// File is as given; a relative path is taken from the data dir.
type DKIMKey struct {
	Selector, Domain, File string
}

// OIDC is the OpenID Connect provider of single sign-on.
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RoleClaim    string            // the ID token claim holding groups; a.b for nested
	Roles        map[string]string // group -> role name
}

// roleNames are the staff roles (SPEC 7.1), for HERALD_OIDC_ROLES.
var roleNames = []string{"viewer", "editor", "publisher", "admin"}

// SMTP is a parsed HERALD_SMTP_URL.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string // none | opportunistic | mandatory | implicit (smtps://)
}

// raw holds the settings as strings, as they come from env and flags.
type raw struct {
	addr, baseURL, dataDir, db, smtpURL, from, siteName, adminToken, tz       string
	digestDaily, digestWeekly, concurrency, rate, retryMin, maxAge, logFormat string
	allowPrivate, websubHubs                                                  string
	welcome, signupPOW, signupAllow, signupBlock, formOrigins                 string
	feedFastPath                                                              string
	dkim, bounceAddress                                                       string
	bounceMailbox, bounceDone, softLimit, webhookSecret, sendgridKey, mgKey   string
	backupCron, backupKeep                                                    string
	retention                                                                 string
	oidcIssuer, oidcClientID, oidcSecret, oidcRoleClaim, oidcRoles            string
	trustedProxies, metricsAllow                                              string
}

// setting ties an environment variable to its flag.
type setting struct {
	env, flag, def, usage string
	dst                   *string
}

func (r *raw) settings() []setting {
	return []setting{
		{"HERALD_ADDR", "addr", DefaultAddr, "listen address", &r.addr},
		{"HERALD_BASE_URL", "base-url", DefaultBaseURL, "public URL used in every link in mail and feeds (default http:// + the listen address)", &r.baseURL},
		{"HERALD_DATA_DIR", "data-dir", DefaultDataDir, "holds herald.db, maildir/, secret, admin-token", &r.dataDir},
		{"HERALD_DB", "db", "", "database (default $HERALD_DATA_DIR/herald.db)", &r.db},
		{"HERALD_SMTP_URL", "smtp-url", "", "smtp://user:pass@host:port?tls=none|opportunistic|mandatory or smtps://...; empty writes to the Maildir", &r.smtpURL},
		{"HERALD_FROM", "from", DefaultFrom, "From: of every message", &r.from},
		{"HERALD_SITE_NAME", "site-name", DefaultSiteName, "used in subjects, pages and feed titles", &r.siteName},
		{"HERALD_ADMIN_TOKEN", "admin-token", "", "bearer token of the admin API (default: generated into $HERALD_DATA_DIR/admin-token)", &r.adminToken},
		{"HERALD_TZ", "tz", DefaultTZ, "default time zone of subscribers and schedules", &r.tz},
		{"HERALD_DIGEST_DAILY", "digest-daily", DefaultDigestDaily, "cron spec of the daily digest, in each subscriber's time zone", &r.digestDaily},
		{"HERALD_DIGEST_WEEKLY", "digest-weekly", DefaultDigestWeekly, "cron spec of the weekly digest", &r.digestWeekly},
		{"HERALD_SEND_CONCURRENCY", "send-concurrency", strconv.Itoa(DefaultSendConcurrency), "SMTP connections used in parallel", &r.concurrency},
		{"HERALD_SEND_RATE", "send-rate", "0", "messages per second, all connections together (0 = no limit)", &r.rate},
		{"HERALD_RETRY_MIN", "retry-min", "1m", "first retry delay after a temporary failure", &r.retryMin},
		{"HERALD_ALERT_MAX_AGE", "alert-max-age", "24h", "drop alerts not delivered this long after the release went live", &r.maxAge},
		{"HERALD_LOG_FORMAT", "log-format", DefaultLogFormat, "text or json", &r.logFormat},
		{"HERALD_OUTBOUND_ALLOW_PRIVATE", "outbound-allow-private", "false", "let herald's own requests (ingest, WebSub, webhooks) reach loopback, link-local and private addresses", &r.allowPrivate},
		{"HERALD_WEBSUB_HUBS", "websub-hubs", "", "comma-separated external WebSub hubs told hub.mode=publish when a feed changes", &r.websubHubs},
		{"HERALD_WELCOME", "welcome", "true", "send a welcome mail after a subscriber confirms (true or false)", &r.welcome},
		{"HERALD_SIGNUP_POW", "signup-pow", "true", "POST /subscribe needs a proof-of-work solution (true or false)", &r.signupPOW},
		{"HERALD_FEED_FASTPATH", "feed-fastpath", "true", "answer polls of cached feeds on the connection, ahead of net/http (true or false)", &r.feedFastPath},
		{"HERALD_SIGNUP_DOMAINS_ALLOW", "signup-domains-allow", "", "comma list of domain patterns (*.gov, example.org) that may subscribe; empty allows all", &r.signupAllow},
		{"HERALD_SIGNUP_DOMAINS_BLOCK", "signup-domains-block", "", "comma list of domain patterns that may not subscribe", &r.signupBlock},
		{"HERALD_FORM_ORIGINS", "form-origins", "", "comma list of origins (https://www.example.org) that may embed the subscribe form or POST to /subscribe", &r.formOrigins},
		{"HERALD_DKIM", "dkim", "", "DKIM keys signing every message: comma list of selector:domain:keyfile (RSA 2048+ or Ed25519 PEM)", &r.dkim},
		{"HERALD_BOUNCE_ADDRESS", "bounce-address", "", "envelope sender base of alerts and digests, e.g. bounces@news.example.org (becomes bounces+TOKEN@...)", &r.bounceAddress},
		{"HERALD_BOUNCE_MAILBOX", "bounce-mailbox", "", "mailbox of bounces and abuse reports, polled every minute: imaps://user:pass@host:993/INBOX, imap://, pop3s:// or pop3://", &r.bounceMailbox},
		{"HERALD_BOUNCE_DONE_FOLDER", "bounce-done-folder", "", "IMAP folder that processed bounces are moved to (empty: they are deleted)", &r.bounceDone},
		{"HERALD_SOFT_BOUNCE_LIMIT", "soft-bounce-limit", strconv.Itoa(DefaultSoftBounceLimit), "soft bounces within 30 days that mark a subscriber bounced", &r.softLimit},
		{"HERALD_WEBHOOK_SECRET", "webhook-secret", "", "password (any user name) of Postmark's bounce webhook at /webhooks/postmark", &r.webhookSecret},
		{"HERALD_SENDGRID_PUBLIC_KEY", "sendgrid-public-key", "", "verification key (base64) of SendGrid's signed event webhook at /webhooks/sendgrid", &r.sendgridKey},
		{"HERALD_MAILGUN_SIGNING_KEY", "mailgun-signing-key", "", "HTTP webhook signing key of Mailgun, for /webhooks/mailgun", &r.mgKey},
		{"HERALD_BACKUP_CRON", "backup-cron", "", "cron spec (in HERALD_TZ) of scheduled backups of the SQLite database into $HERALD_DATA_DIR/backups; empty for none", &r.backupCron},
		{"HERALD_BACKUP_KEEP", "backup-keep", strconv.Itoa(DefaultBackupKeep), "how many scheduled backups to keep (the newest)", &r.backupKeep},
		{"HERALD_RETENTION", "retention", "720h", "how long handled events, finished webhook deliveries, WebSub jobs and ingest runs are kept", &r.retention},
		{"HERALD_OIDC_ISSUER", "oidc-issuer", "", "OpenID Connect issuer URL of single sign-on (empty: no SSO)", &r.oidcIssuer},
		{"HERALD_OIDC_CLIENT_ID", "oidc-client-id", "", "client id of herald at the OpenID provider", &r.oidcClientID},
		{"HERALD_OIDC_CLIENT_SECRET", "oidc-client-secret", "", "client secret of herald at the OpenID provider", &r.oidcSecret},
		{"HERALD_OIDC_ROLE_CLAIM", "oidc-role-claim", DefaultOIDCRoleClaim, "ID token claim with the person's groups (a.b for a nested claim)", &r.oidcRoleClaim},
		{"HERALD_OIDC_ROLES", "oidc-roles", "", "group=role,group=role: the herald role of each group", &r.oidcRoles},
		{"HERALD_TRUSTED_PROXIES", "trusted-proxies", "", "CIDR list of proxies whose X-Forwarded-For / Forwarded headers are believed", &r.trustedProxies},
		{"HERALD_METRICS_ALLOW", "metrics-allow", DefaultMetricsAllow, "CIDR list of clients allowed to read /metrics, or any", &r.metricsAllow},
	}
}

// Loader binds the settings to a FlagSet; call Load after fs.Parse.
type Loader struct {
	r      raw
	getenv func(string) string
	fs     *flag.FlagSet
}

// Bind registers one flag per setting on fs, each defaulting to its
// environment variable, or to herald's default. The flags' printed
// defaults never show the admin token or a password in a URL.
func Bind(fs *flag.FlagSet, getenv func(string) string) *Loader {
	l := &Loader{getenv: getenv, fs: fs}
	for _, s := range l.r.settings() {
		def := s.def
		if v, ok := lookup(getenv, s.env); ok {
			def = v
		}
		fs.StringVar(s.dst, s.flag, def, s.usage+" ($"+s.env+")")
		fs.Lookup(s.flag).DefValue = display(s.env, def)
	}
	return l
}

// IsSetting reports whether the flag name (without dashes) is one of the
// HERALD_* settings rather than a command's own flag.
func (l *Loader) IsSetting(name string) bool {
	for _, s := range l.r.settings() {
		if s.flag == name {
			return true
		}
	}
	return false
}

// PrintSettings writes the settings as a usage section: flag, variable,
// meaning, herald's default and the value the environment gives now. The
// admin token is never shown, and passwords in URLs are masked.
func (l *Loader) PrintSettings(w io.Writer) {
	fmt.Fprintln(w, "settings (each HERALD_* variable is also a flag; flags win):")
	for _, s := range l.r.settings() {
		fmt.Fprintf(w, "  --%s VALUE  ($%s)\n    \t%s", s.flag, s.env, s.usage)
		if s.def != "" && s.env != "HERALD_BASE_URL" { // its usage says its default
			fmt.Fprintf(w, " (default %q)", s.def)
		}
		if v, ok := lookup(l.getenv, s.env); ok {
			if shown := display(s.env, v); shown != "" {
				fmt.Fprintf(w, "\n    \tnow %q from $%s", shown, s.env)
			} else {
				fmt.Fprintf(w, "\n    \tnow set by $%s (not shown)", s.env)
			}
		}
		fmt.Fprintln(w)
	}
}

// display is a setting's value as usage may print it: "" for the admin
// token, URLs with their password masked.
func display(env, v string) string {
	if env == "HERALD_ADMIN_TOKEN" || env == "HERALD_OIDC_CLIENT_SECRET" || env == "HERALD_WEBHOOK_SECRET" || env == "HERALD_MAILGUN_SIGNING_KEY" {
		return ""
	}
	return RedactURL(v)
}

// RedactURL masks the password of a URL (smtp://user:***@host:587); any
// other string is returned as it is. A URL with credentials that cannot be
// parsed is masked whole.
func RedactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		if strings.Contains(s, "@") {
			return "***"
		}
		return s
	}
	if u.User == nil {
		return s
	}
	if _, has := u.User.Password(); !has {
		return s
	}
	// Redacted writes the password as "xxxxx"; a user name cannot hold ":".
	return strings.Replace(u.Redacted(), ":xxxxx@", ":***@", 1)
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// Load validates the bound settings (after fs.Parse). Errors name the
// setting: `HERALD_DIGEST_DAILY: bad cron spec "x": ...`.
func (l *Loader) Load() (Config, error) {
	r := l.r
	names := map[string]string{}
	for _, s := range r.settings() {
		if flagSet(l.fs, s.flag) {
			names[s.env] = "--" + s.flag
		}
	}
	c := Config{names: names,
		Addr: strings.TrimSpace(r.addr), DataDir: strings.TrimSpace(r.dataDir),
		SiteName: strings.TrimSpace(r.siteName), AdminToken: strings.TrimSpace(r.adminToken),
		DigestDaily: strings.TrimSpace(r.digestDaily), DigestWeekly: strings.TrimSpace(r.digestWeekly),
		LogFormat: strings.ToLower(strings.TrimSpace(r.logFormat)),
	}
	var errs []error
	fail := func(env, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", c.Name(env), fmt.Sprintf(format, args...)))
	}
	if c.Addr == "" {
		fail("HERALD_ADDR", "must not be empty")
	}
	baseURL := r.baseURL
	if _, fromEnv := lookup(l.getenv, "HERALD_BASE_URL"); !fromEnv && !flagSet(l.fs, "base-url") {
		baseURL = baseURLFor(c.Addr)
	}
	c.BaseURL = parseBaseURL(baseURL, func(msg string) { fail("HERALD_BASE_URL", "%s", msg) })
	if c.DataDir == "" {
		fail("HERALD_DATA_DIR", "must not be empty")
	}
	c.DB = strings.TrimSpace(r.db)
	if c.DB == "" {
		c.DB = filepath.Join(c.DataDir, "herald.db")
	}
	if strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://") {
		if u, err := url.Parse(c.DB); err != nil || u.Host == "" {
			fail("HERALD_DB", "%q is not a PostgreSQL URL such as postgres://user:pass@host:5432/herald?sslmode=require", RedactURL(c.DB))
		}
	} else if strings.Contains(c.DB, "://") {
		fail("HERALD_DB", "%q is neither a SQLite file path nor a postgres:// URL", RedactURL(c.DB))
	}
	if s := strings.TrimSpace(r.smtpURL); s != "" {
		smtp, err := ParseSMTPURL(s)
		if err != nil {
			fail("HERALD_SMTP_URL", "%v", err)
		}
		c.SMTP = smtp
	}
	from, err := mail.ParseAddress(r.from)
	if err != nil || strings.ContainsAny(r.from, "\r\n") {
		fail("HERALD_FROM", "%q is not an address such as \"Press Office <press@example.org>\"", r.from)
	}
	c.From = from
	if c.SiteName == "" || strings.ContainsAny(c.SiteName, "\r\n") {
		fail("HERALD_SITE_NAME", "must be one non-empty line")
	}
	if strings.ContainsAny(c.AdminToken, " \t\r\n") {
		fail("HERALD_ADMIN_TOKEN", "must not contain spaces or line breaks")
	}
	if c.Location, err = time.LoadLocation(strings.TrimSpace(r.tz)); err != nil || strings.TrimSpace(r.tz) == "" {
		fail("HERALD_TZ", "unknown time zone %q (use an IANA name such as Europe/Geneva)", r.tz)
	}
	for env, spec := range map[string]string{"HERALD_DIGEST_DAILY": c.DigestDaily, "HERALD_DIGEST_WEEKLY": c.DigestWeekly} {
		if _, err := cron.ParseStandard(spec); err != nil {
			fail(env, "bad cron spec %q: %v", spec, err)
		}
	}
	if c.SendConcurrency, err = strconv.Atoi(strings.TrimSpace(r.concurrency)); err != nil || c.SendConcurrency < 1 || c.SendConcurrency > 256 {
		fail("HERALD_SEND_CONCURRENCY", "must be a whole number from 1 to 256, got %q", r.concurrency)
	}
	if c.SendRate, err = strconv.ParseFloat(strings.TrimSpace(r.rate), 64); err != nil || c.SendRate < 0 {
		fail("HERALD_SEND_RATE", "must be a number of messages per second, 0 for no limit, got %q", r.rate)
	}
	if c.RetryMin, err = time.ParseDuration(strings.TrimSpace(r.retryMin)); err != nil || c.RetryMin <= 0 {
		fail("HERALD_RETRY_MIN", "must be a positive duration such as 1m or 30s, got %q", r.retryMin)
	}
	if c.AlertMaxAge, err = time.ParseDuration(strings.TrimSpace(r.maxAge)); err != nil || c.AlertMaxAge <= 0 {
		fail("HERALD_ALERT_MAX_AGE", "must be a positive duration such as 24h, got %q", r.maxAge)
	}
	if c.Retention, err = time.ParseDuration(strings.TrimSpace(r.retention)); err != nil || c.Retention < 24*time.Hour {
		fail("HERALD_RETENTION", "must be a duration of at least 24h such as 720h, got %q", r.retention)
	}
	if c.OutboundAllowPrivate, err = strconv.ParseBool(strings.TrimSpace(r.allowPrivate)); err != nil {
		fail("HERALD_OUTBOUND_ALLOW_PRIVATE", "must be true or false, got %q", r.allowPrivate)
	}
	for _, h := range strings.Split(r.websubHubs, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if u, err := url.Parse(h); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			fail("HERALD_WEBSUB_HUBS", "%q is not an http or https URL", RedactURL(h))
			continue
		}
		c.WebSubHubs = append(c.WebSubHubs, h)
	}
	c.BackupCron = strings.TrimSpace(r.backupCron)
	if c.BackupCron != "" {
		if _, err := cron.ParseStandard(c.BackupCron); err != nil {
			fail("HERALD_BACKUP_CRON", "bad cron spec %q: %v", c.BackupCron, err)
		}
	}
	if c.BackupKeep, err = strconv.Atoi(strings.TrimSpace(r.backupKeep)); err != nil || c.BackupKeep < 1 {
		fail("HERALD_BACKUP_KEEP", "must be a whole number of at least 1, got %q", r.backupKeep)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		fail("HERALD_LOG_FORMAT", "must be text or json, got %q", r.logFormat)
	}
	boolSetting := func(env, v string) bool {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			fail(env, "must be true or false, got %q", v)
		}
		return b
	}
	c.Welcome = boolSetting("HERALD_WELCOME", r.welcome)
	c.SignupPOW = boolSetting("HERALD_SIGNUP_POW", r.signupPOW)
	c.FeedFastPath = boolSetting("HERALD_FEED_FASTPATH", r.feedFastPath)
	for _, x := range []struct {
		env, v string
		dst    *[]string
	}{{"HERALD_SIGNUP_DOMAINS_ALLOW", r.signupAllow, &c.SignupAllow}, {"HERALD_SIGNUP_DOMAINS_BLOCK", r.signupBlock, &c.SignupBlock}} {
		for _, p := range splitList(x.v) {
			if !validDomainPattern(p) {
				fail(x.env, "%q is not a domain pattern such as example.org or *.gov", p)
			}
			*x.dst = append(*x.dst, strings.ToLower(p))
		}
	}
	for _, o := range splitList(r.formOrigins) {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			fail("HERALD_FORM_ORIGINS", "%q is not an origin such as https://www.example.org", o)
			continue
		}
		c.FormOrigins = append(c.FormOrigins, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	c.DKIM = parseDKIM(r.dkim, c.DataDir, func(msg string) { fail("HERALD_DKIM", "%s", msg) })
	if b := strings.TrimSpace(r.bounceAddress); b != "" {
		a, err := mail.ParseAddress(b)
		if err != nil || a.Name != "" || a.Address != b || strings.ContainsAny(b, "+\r\n") {
			fail("HERALD_BOUNCE_ADDRESS", "%q is not a plain address without + such as bounces@news.example.org", b)
		} else {
			c.BounceAddress = a.Address
		}
	}
	parseBounceSettings(r, &c, fail)
	c.OIDC = parseOIDC(r, func(env, msg string) { fail(env, "%s", msg) })
	if c.TrustedProxies, err = ParseCIDRList(r.trustedProxies); err != nil {
		fail("HERALD_TRUSTED_PROXIES", "%v", err)
	}
	if strings.EqualFold(strings.TrimSpace(r.metricsAllow), "any") {
		c.MetricsAny = true
	} else if c.MetricsAllow, err = ParseCIDRList(r.metricsAllow); err != nil {
		fail("HERALD_METRICS_ALLOW", "%v (or any)", err)
	}
	if len(errs) > 0 {
		return c, errs[0]
	}
	return c, nil
}

// splitList splits a comma (or space) separated setting.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}

// validDomainPattern accepts "example.org" and "*.example.org" / "*.gov":
// letters, digits, hyphens and dots, with at most a leading "*.".
func validDomainPattern(p string) bool {
	p = strings.TrimPrefix(p, "*.")
	if p == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
		return false
	}
	for _, r := range p {
		if !(r == '.' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// parseDKIM reads HERALD_DKIM's list; the key files themselves are read
// by the mailer at startup.
func parseDKIM(s, dataDir string, fail func(string)) []DKIMKey {
	var keys []DKIMKey
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.SplitN(item, ":", 3)
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			fail(fmt.Sprintf("%q is not selector:domain:keyfile", item))
			return nil
		}
		file := parts[2]
		if !filepath.IsAbs(file) {
			file = filepath.Join(dataDir, file)
		}
		keys = append(keys, DKIMKey{Selector: parts[0], Domain: strings.ToLower(parts[1]), File: file})
	}
	return keys
}

// ParseCIDRList reads "10.0.0.0/8, 192.168.1.7, ::1": prefixes, or single
// addresses (a /32 or /128).
func ParseCIDRList(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix such as 10.0.0.0/8", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// parseOIDC validates the single sign-on settings: all three of issuer,
// client id and secret, or none; every group mapped to a known role.
func parseOIDC(r raw, fail func(env, msg string)) *OIDC {
	o := &OIDC{Issuer: strings.TrimSpace(r.oidcIssuer), ClientID: strings.TrimSpace(r.oidcClientID),
		ClientSecret: strings.TrimSpace(r.oidcSecret), RoleClaim: strings.TrimSpace(r.oidcRoleClaim), Roles: map[string]string{}}
	if strings.TrimSpace(r.oidcIssuer) == "" {
		if o.ClientID != "" || o.ClientSecret != "" || strings.TrimSpace(r.oidcRoles) != "" {
			fail("HERALD_OIDC_ISSUER", "must be set when HERALD_OIDC_CLIENT_ID, HERALD_OIDC_CLIENT_SECRET or HERALD_OIDC_ROLES is")
		}
		return nil
	}
	// The issuer is compared with the provider's exactly: it is kept as
	// given (some providers end it with a slash).
	if u, err := url.Parse(o.Issuer); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		fail("HERALD_OIDC_ISSUER", fmt.Sprintf("%q is not an issuer URL such as https://sso.example.org/realms/press", o.Issuer))
	}
	if o.ClientID == "" {
		fail("HERALD_OIDC_CLIENT_ID", "must be set with HERALD_OIDC_ISSUER")
	}
	if o.ClientSecret == "" {
		fail("HERALD_OIDC_CLIENT_SECRET", "must be set with HERALD_OIDC_ISSUER")
	}
	if o.RoleClaim == "" {
		o.RoleClaim = DefaultOIDCRoleClaim
	}
	for _, pair := range strings.Split(r.oidcRoles, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		i := strings.LastIndexByte(pair, '=')
		if i <= 0 {
			fail("HERALD_OIDC_ROLES", fmt.Sprintf("%q is not group=role", pair))
			continue
		}
		group, role := strings.TrimSpace(pair[:i]), strings.ToLower(strings.TrimSpace(pair[i+1:]))
		if !slices.Contains(roleNames, role) {
			fail("HERALD_OIDC_ROLES", fmt.Sprintf("unknown role %q for group %q: use viewer, editor, publisher or admin", role, group))
			continue
		}
		o.Roles[group] = role
	}
	return o
}

func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

// baseURLFor is the base URL when none is set: the listen address, with
// 127.0.0.1 for an unspecified host (":9090", "0.0.0.0:9090", "[::]:9090").
// The default address, one that cannot be parsed, and port 0 (a port the
// system picks, as tests do) keep DefaultBaseURL.
func baseURLFor(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || addr == DefaultAddr {
		return DefaultBaseURL
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return DefaultBaseURL
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func parseBaseURL(s string, fail func(string)) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		fail(fmt.Sprintf("%q must be an absolute http or https URL such as https://press.example.org", RedactURL(s)))
		return s
	}
	return strings.TrimRight(u.String(), "/")
}

// ParseSMTPURL parses smtp://user:pass@host:port?tls=none|opportunistic|mandatory
// or smtps://user:pass@host:port (implicit TLS).
func ParseSMTPURL(s string) (*SMTP, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("not a URL: %v", redact(err))
	}
	c := &SMTP{Host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		c.Port, c.TLS = 25, "opportunistic"
	case "smtps":
		c.Port, c.TLS = 465, "implicit"
	default:
		return nil, fmt.Errorf("scheme must be smtp:// or smtps://, got %q", u.Scheme)
	}
	if c.Host == "" {
		return nil, errors.New("no host")
	}
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil || c.Port < 1 || c.Port > 65535 {
			return nil, fmt.Errorf("bad port %q", p)
		}
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		if k != "tls" {
			return nil, fmt.Errorf("unknown parameter %q (only tls is known)", k)
		}
	}
	if t := q.Get("tls"); t != "" {
		if u.Scheme == "smtps" {
			return nil, errors.New("smtps:// always uses implicit TLS; drop the tls parameter")
		}
		switch t {
		case "none", "opportunistic", "mandatory":
			c.TLS = t
		default:
			return nil, fmt.Errorf("tls must be none, opportunistic or mandatory, got %q", t)
		}
	}
	return c, nil
}

// redact keeps a password out of a url.Parse error.
func redact(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// PrepareDataDir creates the data directory and checks that herald can
// write into it.
func (c Config) PrepareDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o750); err != nil {
		return fmt.Errorf("%s: cannot create %s: %v", c.Name("HERALD_DATA_DIR"), c.DataDir, errors.Unwrap(err))
	}
	f, err := os.CreateTemp(c.DataDir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("%s: %s is not writable: %v", c.Name("HERALD_DATA_DIR"), c.DataDir, errors.Unwrap(err))
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// parseBounceSettings validates the settings of bounces and complaints
// (SPEC 8.3).
func parseBounceSettings(r raw, c *Config, fail func(env, format string, args ...any)) {
	c.BounceMailbox = strings.TrimSpace(r.bounceMailbox)
	if c.BounceMailbox != "" {
		u, err := url.Parse(c.BounceMailbox)
		switch {
		case err != nil:
			fail("HERALD_BOUNCE_MAILBOX", "%q is not a URL such as imaps://user:pass@host:993/INBOX", RedactURL(c.BounceMailbox))
		case u.Scheme != "imaps" && u.Scheme != "imap" && u.Scheme != "pop3s" && u.Scheme != "pop3":
			fail("HERALD_BOUNCE_MAILBOX", "scheme must be imaps://, imap://, pop3s:// or pop3://, got %q", u.Scheme)
		case u.Hostname() == "" || u.User == nil || u.User.Username() == "":
			fail("HERALD_BOUNCE_MAILBOX", "%q needs user:password@host", RedactURL(c.BounceMailbox))
		}
	}
	c.BounceDoneFolder = strings.TrimSpace(r.bounceDone)
	if c.BounceDoneFolder != "" && strings.HasPrefix(c.BounceMailbox, "pop3") {
		fail("HERALD_BOUNCE_DONE_FOLDER", "needs an IMAP mailbox: POP3 has no folders")
	}
	var err error
	if c.SoftBounceLimit, err = strconv.Atoi(strings.TrimSpace(r.softLimit)); err != nil || c.SoftBounceLimit < 1 {
		fail("HERALD_SOFT_BOUNCE_LIMIT", "must be a whole number of at least 1, got %q", r.softLimit)
	}
	c.WebhookSecret = strings.TrimSpace(r.webhookSecret)
	c.MailgunSigningKey = strings.TrimSpace(r.mgKey)
	c.SendGridPublicKey = strings.TrimSpace(r.sendgridKey)
	if c.SendGridPublicKey != "" {
		if _, err := base64.StdEncoding.DecodeString(c.SendGridPublicKey); err != nil {
			fail("HERALD_SENDGRID_PUBLIC_KEY", "is not base64 (copy the verification key from SendGrid's Mail Settings)")
		}
	}
}

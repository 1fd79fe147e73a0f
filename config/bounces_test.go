package config_test

import (
	"bytes"
	"flag"
	"strings"
	"testing"

	"herald/config"
)

func TestLoad_BounceSettings(t *testing.T) {
	c, err := load(t, nil)
	if err != nil || c.SoftBounceLimit != 5 || c.BounceMailbox != "" {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	c, err = load(t, map[string]string{"HERALD_BOUNCE_MAILBOX": "imaps://bounce:pw@imap.example.org:993/INBOX",
		"HERALD_BOUNCE_DONE_FOLDER": "Processed", "HERALD_WEBHOOK_SECRET": "pm", "HERALD_SENDGRID_PUBLIC_KEY": "TUZrd0V3WUhLb1pJemowQw==",
		"HERALD_MAILGUN_SIGNING_KEY": "mg"}, "--soft-bounce-limit", "3")
	if err != nil || c.BounceMailbox != "imaps://bounce:pw@imap.example.org:993/INBOX" || c.BounceDoneFolder != "Processed" ||
		c.SoftBounceLimit != 3 || c.WebhookSecret != "pm" || c.MailgunSigningKey != "mg" || c.SendGridPublicKey == "" {
		t.Fatalf("%+v, %v", c, err)
	}
	for env, want := range map[string]map[string]string{
		"HERALD_BOUNCE_MAILBOX":      {"HERALD_BOUNCE_MAILBOX": "https://imap.example.org"},
		"HERALD_SOFT_BOUNCE_LIMIT":   {"HERALD_SOFT_BOUNCE_LIMIT": "0"},
		"HERALD_SENDGRID_PUBLIC_KEY": {"HERALD_SENDGRID_PUBLIC_KEY": "not base64!"},
		"HERALD_BOUNCE_DONE_FOLDER":  {"HERALD_BOUNCE_MAILBOX": "pop3s://u:p@pop.example.org", "HERALD_BOUNCE_DONE_FOLDER": "Done"},
	} {
		if _, err := load(t, want); err == nil || !strings.HasPrefix(err.Error(), env+":") {
			t.Errorf("%v: %v, want an error naming %s", want, err, env)
		}
	}
	// Usage never shows the secrets or the mailbox password.
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	l := config.Bind(fs, func(k string) string {
		return map[string]string{"HERALD_WEBHOOK_SECRET": "pm-secret-value", "HERALD_MAILGUN_SIGNING_KEY": "mg-secret-value",
			"HERALD_BOUNCE_MAILBOX": "imaps://bounce:mailbox-password@imap.example.org/INBOX"}[k]
	})
	var b bytes.Buffer
	l.PrintSettings(&b)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	for _, secret := range []string{"pm-secret-value", "mg-secret-value", "mailbox-password"} {
		if strings.Contains(b.String(), secret) {
			t.Errorf("usage shows %s", secret)
		}
	}
}

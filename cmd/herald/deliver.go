package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"herald/mailer"
	"herald/templates"
)

// newMailer maps the configuration onto the mailer's options and loads the
// mail templates; a broken override in $HERALD_DATA_DIR/templates stops
// startup with an error naming the file. The dispatcher's composer renders
// alerts and digests.
func newMailer(a *app, reg prometheus.Registerer, progress func(mailer.Stats)) (*mailer.Mailer, error) {
	cfg := a.cfg
	dir := filepath.Join(cfg.DataDir, "templates")
	tpl, err := mailer.LoadTemplates(templates.Overlay(dir), mailer.TemplateOptions{
		SiteName: cfg.SiteName, BaseURL: cfg.BaseURL, OverrideDir: dir})
	if err != nil {
		return nil, err
	}
	opts := mailer.Options{
		Logger:      a.log.With("component", "mailer"),
		MaildirDir:  filepath.Join(cfg.DataDir, "maildir"),
		From:        cfg.From,
		SiteName:    cfg.SiteName,
		BaseURL:     cfg.BaseURL,
		Concurrency: cfg.SendConcurrency,
		Rate:        cfg.SendRate,
		RetryMin:    cfg.RetryMin,
		Drain:       shutdownGrace,
		Templates:   tpl,
		Registerer:  reg,
		Progress:    progress,
	}
	for _, k := range cfg.DKIM {
		key, err := mailer.LoadDKIMKey(k.Selector, k.Domain, k.File)
		if err != nil {
			return nil, fmt.Errorf("%s: %s:%s: %w", cfg.Name("HERALD_DKIM"), k.Selector, k.Domain, err)
		}
		opts.DKIM = append(opts.DKIM, key)
	}
	if cfg.BounceAddress != "" {
		opts.VERP = mailer.NewVERP(cfg.BounceAddress, a.secret)
	}
	if s := cfg.SMTP; s != nil {
		opts.SMTP = &mailer.SMTPOptions{Host: s.Host, Port: s.Port, Username: s.Username, Password: s.Password, TLS: s.TLS}
	}
	m, err := mailer.New(a.db, opts)
	if err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	composer := a.dispatch.NewComposer(tpl, a.subscribers.Tokens(), cfg.BaseURL)
	m.Register(mailer.KindAlert, composer)
	m.Register(mailer.KindDigest, composer)
	a.mailer = m
	return m, nil
}

func runDeliver(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "deliver", "")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "deliver takes no arguments, got %q", fs.Arg(0))
	}
	a, err := open(ctx, e, loader, slog.LevelWarn)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	p := newProgress(e.stderr, "delivering", false)
	m, err := newMailer(a, nil, func(s mailer.Stats) {
		p.update(0, 0, fmt.Sprintf("%d sent, %d failed, %d deferred, %d dropped", s.Sent, s.Failed, s.Deferred, s.Expired+s.Cancelled))
	})
	if err != nil {
		return fail(e, err)
	}
	st, q, err := m.Deliver(ctx)
	p.finish()
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stderr, "herald: %d sent, %d failed, %d deferred, %d expired, %d cancelled\n",
		st.Sent, st.Failed, st.Deferred, st.Expired, st.Cancelled)
	code := exitOK
	if st.Failed > 0 {
		fmt.Fprintf(e.stderr, "herald: %s permanently (see the log above)\n", plural(st.Failed, "message failed", "messages failed"))
		code = exitFail
	}
	if left := q.Due + q.Deferred; left > 0 {
		next := ""
		if !q.NextAt.IsZero() {
			next = ", next attempt at " + q.NextAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(e.stderr, "herald: %s for a later attempt%s; run deliver again then\n", plural(left, "message remains deferred", "messages remain deferred"), next)
		code = exitFail
	}
	return code
}

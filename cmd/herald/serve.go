package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"herald/api"
	"herald/bounces"
	bouncehooks "herald/bounces/hooks"
	"herald/cluster"
	"herald/config"
	"herald/feeds"
	"herald/mailer"
	"herald/media"
	"herald/staff"
	"herald/templates"
	"herald/web"
	"herald/web/admin"
	"herald/web/fastpath"
	"herald/webhooks"
	"herald/websub"
)

// shutdownGrace bounds how long in-flight work may take after SIGTERM
// (SPEC 1: at most 30 s).
const shutdownGrace = 30 * time.Second

// minAdminToken is the length below which a configured admin token gets a
// warning at startup.
const minAdminToken = 32

func runServe(ctx context.Context, e env, args []string) int {
	fs, loader := flags(e, "serve", "[--demo] [settings]")
	demo := fs.Bool("demo", false, "load a dozen sample releases into an empty database")
	if code, ok := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "serve takes no arguments, got %q", fs.Arg(0))
	}
	a, err := open(ctx, e, loader, slog.LevelInfo)
	if err != nil {
		return fail(e, err)
	}
	defer a.close()
	if err := serve(ctx, a, *demo); err != nil {
		return fail(e, err)
	}
	return exitOK
}

// serve runs the daemon until ctx ends, then shuts down in reverse order:
// HTTP, background loops, database (closed by the caller).
func serve(ctx context.Context, a *app, demo bool) error {
	log := a.log
	// A SQLite file with damaged pages is refused before it serves anything
	// (PostgreSQL guards its own pages).
	if a.db.Engine() == "sqlite" {
		if _, err := a.db.IntegrityCheck(ctx); err != nil {
			return fmt.Errorf("%s: the database file %s is damaged (%v); restore a backup with herald restore FILE", a.cfg.Name("HERALD_DB"), a.db.Path(), err)
		}
	}
	tokenPath, generated, err := a.resolveAdminToken(ctx)
	if err != nil {
		return err
	}
	cfg := a.cfg
	if !generated && tokenPath == "" && len(cfg.AdminToken) < minAdminToken {
		log.Warn("HERALD_ADMIN_TOKEN is shorter than 32 characters: it can be guessed. Use a long random token (openssl rand -hex 32); it is the break-glass admin of the API and the console",
			"length", len(cfg.AdminToken))
	}
	switch {
	case generated:
		log.Info("generated the admin token", "path", tokenPath)
	case tokenPath != "":
		log.Info("admin token", "path", tokenPath)
	}
	mediaFiles := media.New(a.db, a.releases, media.Options{Logger: log.With("component", "media"), Audit: a.audit})
	if demo {
		n, err := loadDemo(ctx, a.releases, mediaFiles)
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		if n > 0 {
			log.Info("loaded demo releases", "count", n)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mail, err := newMailer(a, reg, nil)
	if err != nil {
		return err
	}

	// Bounces and complaints that arrive later (SPEC 8.3).
	var verp *mailer.VERP
	if cfg.BounceAddress != "" {
		verp = mailer.NewVERP(cfg.BounceAddress, a.secret)
	}
	bounceProc := bounces.NewProcessor(a.subscribers, bounces.ProcessorOptions{VERP: verp, SoftLimit: cfg.SoftBounceLimit,
		Counter: mail, Metrics: bounces.NewMetrics(reg), Logger: log.With("component", "bounces")})
	bounceHooks := bouncehooks.New(bounceProc, bouncehooks.Options{WebhookSecret: cfg.WebhookSecret, SendGridPublicKey: cfg.SendGridPublicKey,
		MailgunSigningKey: cfg.MailgunSigningKey, VERP: verp, Replays: a.db, Logger: log.With("component", "bounce-webhooks")})

	hooks := webhooks.New(a.db, a.outbound, webhooks.Options{BaseURL: cfg.BaseURL, Logger: log.With("component", "webhooks"), Audit: a.audit})
	apiRoutes := api.New(api.Options{AdminToken: cfg.AdminToken, BaseURL: cfg.BaseURL, Logger: log.With("component", "api")},
		api.Deps{Releases: a.releases, Dispatch: a.dispatch, Subscribers: a.subscribers, Messages: a.db, Webhooks: hooks, Sources: a.sources,
			Staff: a.staff, Audit: a.db, Bounces: a.db, Limits: a.db, Media: mediaFiles})
	feedDocs := feeds.New(feeds.Options{SiteName: cfg.SiteName, BaseURL: cfg.BaseURL, Logger: log.With("component", "feeds")},
		a.releases, a.db)
	hub := websub.New(a.db, a.outbound, a.releases, feedDocs, websub.Options{BaseURL: cfg.BaseURL, Hubs: cfg.WebSubHubs,
		Logger: log.With("component", "websub")})
	var fast *fastpath.Cache // polls of cached feeds answered ahead of net/http (SPEC 13)
	if cfg.FeedFastPath {
		fast = fastpath.NewCache(0)
	}
	handler, err := web.New(web.Options{SiteName: cfg.SiteName, BaseURL: cfg.BaseURL, Logger: log.With("component", "web"),
		AdminToken: cfg.AdminToken, Secret: a.secret, Timezone: cfg.Location.String(), FormOrigins: cfg.FormOrigins, OIDC: oidcOptions(cfg.OIDC),
		TrustedProxies: cfg.TrustedProxies, MetricsAllow: cfg.MetricsAllow, MetricsAny: cfg.MetricsAny}, web.Deps{
		DB:          a.db,
		Registry:    reg,
		Metrics:     promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		Templates:   templates.Overlay(filepath.Join(cfg.DataDir, "templates")),
		API:         apiRoutes,
		BounceHooks: bounceHooks,
		Subscribers: a.subscribers,
		Releases:    a.releases,
		Store:       a.db,
		Feeds:       feedDocs,
		Dispatch:    a.dispatch,
		Mail:        a.dispatch.NewComposer(mail.Templates(), a.subscribers.Tokens(), cfg.BaseURL),
		Stats:       a.db,
		Limits:      a.db,
		Webhooks:    hooks,
		Hub:         hub,
		Sources:     a.sources,
		Staff:       a.staff,
		Audit:       a.audit,
		Media:       mediaFiles,
		Fast:        fast,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("%s: cannot listen on %s: %w", cfg.Name("HERALD_ADDR"), cfg.Addr, errors.Unwrap(err))
	}
	// Slow clients are cut off (SPEC 12): headers within 10 s, bodies within
	// 60 s (imports 10 min), idle keep-alive connections after 120 s.
	srv := web.NewServer(handler, web.ServerOptions{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)})
	var fastLn *fastpath.Listener
	if fast != nil {
		// Each connection is read first by the fast path, with the same
		// limits; anything it does not answer goes on to srv.
		fastLn = fastpath.Listen(ln, fast, fastpath.Options{ReadHeaderTimeout: srv.ReadHeaderTimeout, IdleTimeout: srv.IdleTimeout})
		ln = fastLn
	}

	schema, err := a.db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	// Timed work runs on one instance at a time: the leader (SPEC 6).
	node := cluster.New(a.db, cluster.Options{Version: version, SchemaVersion: schema,
		Logger: log.With("component", "cluster"), Registerer: reg, OnInstances: mail.ShareRate})
	node.Lead("auto-alerts", a.dispatch.RunAutoAlerts)
	node.Lead("digests", a.dispatch.RunSchedule)
	node.Lead("webhooks", hooks.Run)
	node.Lead("websub", hub.Run)
	node.Lead("sources", a.sources.Run)
	node.Lead("prune", func(ctx context.Context) { runPrune(ctx, a.db, cfg.Retention, log.With("component", "prune")) })
	if cfg.BounceMailbox != "" {
		poller, err := bounces.NewPoller(bounceProc, bounces.MailboxOptions{URL: cfg.BounceMailbox, DoneFolder: cfg.BounceDoneFolder,
			Logger: log.With("component", "bounces")})
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.Name("HERALD_BOUNCE_MAILBOX"), err)
		}
		node.Lead("bounce-mailbox", poller.Run)
	}
	switch {
	case cfg.BackupCron == "":
	case a.db.Engine() == "postgres":
		log.Warn("HERALD_BACKUP_CRON is ignored on PostgreSQL: back it up with pg_dump")
	default:
		node.Lead("backups", func(ctx context.Context) { runScheduledBackups(ctx, cfg, log.With("component", "backup")) })
	}

	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.releases.Run(bg, node.IsLeader) })
	wg.Go(func() { node.Run(bg) })
	// The mailer stops as soon as shutdown begins: it starts nothing new
	// and lets SMTP transactions under way finish (at most shutdownGrace).
	mailCtx, stopMail := context.WithCancel(context.WithoutCancel(ctx))
	defer stopMail()
	wg.Go(func() { mail.Run(mailCtx) })

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("herald is running", "addr", ln.Addr().String(), "base_url", cfg.BaseURL,
		"data_dir", cfg.DataDir, "mail", mailTarget(a))

	select {
	case <-ctx.Done():
		log.Info("shutting down")
		stopMail()
	case err := <-serveErr:
		stopMail()
		stopBG()
		wg.Wait()
		return fmt.Errorf("http server: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("HTTP shutdown did not finish in time", "err", err)
	}
	if fastLn != nil {
		if err := fastLn.Shutdown(sctx); err != nil {
			log.Warn("HTTP shutdown did not finish in time", "err", err)
		}
	}
	stopBG()
	wg.Wait()
	log.Info("stopped")
	return nil
}

func mailTarget(a *app) string {
	if a.cfg.SMTP == nil {
		return "maildir " + a.cfg.DataDir + "/maildir"
	}
	return fmt.Sprintf("smtp %s:%d", a.cfg.SMTP.Host, a.cfg.SMTP.Port)
}

// oidcOptions maps the single sign-on settings onto the console's
// options (config has checked every role name).
func oidcOptions(o *config.OIDC) *admin.OIDCOptions {
	if o == nil {
		return nil
	}
	roles := map[string]staff.Role{}
	for group, name := range o.Roles {
		if r, err := staff.ParseRole(name); err == nil {
			roles[group] = r
		}
	}
	return &admin.OIDCOptions{Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, RoleClaim: o.RoleClaim, Roles: roles}
}

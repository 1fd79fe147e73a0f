package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"herald/audit"
	"herald/config"
	"herald/dispatch"
	"herald/internal/outbound"
	"herald/mailer"
	"herald/releases"
	"herald/sources"
	"herald/staff"
	"herald/store"
	"herald/subscribers"
)

// app is what every command shares: the configuration, the database and the
// domain services built on it.
type app struct {
	cfg         config.Config
	log         *slog.Logger
	db          *store.DB
	releases    *releases.Service
	subscribers *subscribers.Service
	dispatch    *dispatch.Service
	staff       *staff.Service
	audit       *audit.Recorder
	mailer      *mailer.Mailer // set by commands that send (serve, deliver)
	secret      []byte         // signs the tokens in links
	// outbound makes herald's own HTTP requests (ingest, WebSub, webhooks).
	outbound *outbound.Client
	sources  *sources.Service
}

// open loads the configuration and opens the database and services. A
// configuration problem is reported as such (exit 1, one line).
func open(ctx context.Context, e env, loader *config.Loader, level slog.Level) (*app, error) {
	cfg, err := loader.Load()
	if err != nil {
		return nil, err
	}
	if err := cfg.PrepareDataDir(); err != nil {
		return nil, err
	}
	log := newLogger(e.stderr, cfg.LogFormat, level)
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name("HERALD_DB"), err)
	}
	db.SetMediaDir(filepath.Join(cfg.DataDir, "media")) // SQLite keeps media files there (SPEC 10)
	a := &app{cfg: cfg, log: log, db: db}
	a.audit = audit.New(db, log.With("component", "audit"))
	a.outbound = outbound.New(outbound.Options{
		UserAgent:    "herald/" + version + " (+" + cfg.BaseURL + ")",
		AllowPrivate: cfg.OutboundAllowPrivate,
	})
	a.releases = releases.New(db, releases.Options{Logger: log.With("component", "releases"), BaseURL: cfg.BaseURL, Audit: a.audit})
	a.sources = sources.New(db, a.outbound, a.releases, sources.Options{BaseURL: cfg.BaseURL, Logger: log.With("component", "sources"), Audit: a.audit})
	if a.secret, err = a.linkSecret(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := a.services(); err != nil {
		db.Close()
		return nil, err
	}
	loaded, err := a.releases.EnsureDefaultTaxonomy(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	if loaded {
		log.Info("loaded the built-in taxonomy of topics and regions")
	}
	if c, err := db.AddressCollisions(ctx); err == nil && len(c) > 0 {
		log.Warn("subscriber addresses that equal older ones once case is ignored were kept, not merged: erase one of each pair (herald db check lists them)",
			"collisions", collisionList(c))
	}
	return a, nil
}

// services builds the subscriber service and the dispatcher.
func (a *app) services() error {
	cfg := a.cfg
	var err error
	a.subscribers, err = subscribers.New(a.db, a.releases, subscribers.Options{
		Secret: a.secret, BaseURL: cfg.BaseURL, DefaultTimezone: cfg.Location.String(),
		Logger: a.log.With("component", "subscribers"), Welcome: cfg.Welcome, Audit: a.audit,
		SignupPOW: cfg.SignupPOW, DomainsAllow: cfg.SignupAllow, DomainsBlock: cfg.SignupBlock,
	})
	if err != nil {
		return err
	}
	a.staff = staff.New(a.db, staff.Options{BaseURL: cfg.BaseURL, Logger: a.log.With("component", "staff"), Audit: a.audit,
		Notify: func() {
			if a.mailer != nil {
				a.mailer.Notify()
			}
		}})
	a.dispatch, err = dispatch.New(a.db, a.releases, dispatch.Options{
		DigestDaily: cfg.DigestDaily, DigestWeekly: cfg.DigestWeekly, AlertMaxAge: cfg.AlertMaxAge,
		Logger: a.log.With("component", "dispatch"), Audit: a.audit,
		Notify: func() {
			if a.mailer != nil {
				a.mailer.Notify()
			}
		},
	})
	return err
}

func (a *app) close() {
	if err := a.db.Close(); err != nil {
		a.log.Error("closing the database failed", "err", err)
	}
}

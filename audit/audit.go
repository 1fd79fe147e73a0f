// Package audit is herald's audit log (SPEC 7.3): one Recorder that every
// state change goes through, whoever makes it (the API, the console, the
// CLI or herald's own timed work). The actor travels in the context: the
// authentication middleware (or the CLI, or a system job) puts it there
// with WithActor, and the domain services call Record after each change.
// Entries are appended and never changed: the store offers no method to
// change one and the table's triggers refuse it. It imports only store.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"herald/store"
)

// Actor kinds (SPEC 7.3).
const (
	KindStaff      = "staff"
	KindToken      = "token"
	KindAdminToken = "admin-token"
	KindCLI        = "cli"
	KindSystem     = "system"
)

// Actor is who does something: a name ("ana@example.org", "token:12",
// "admin-token", "cli:alice", "system"), its kind, and the client IP for
// requests.
type Actor struct {
	Name string
	Kind string
	IP   string
}

// System is herald itself (embargo go-live, automatic alerts, digests).
var System = Actor{Name: "system", Kind: KindSystem}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of ctx; a context without one is herald's
// own work (System).
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.Name != "" {
		return a
	}
	return System
}

// Entry is one state change: an action ("release.publish"), its target
// ("release:42") and details (a JSON object).
type Entry struct {
	Action  string
	Target  string
	Details map[string]any
}

// Recorder appends entries to the audit log.
type Recorder struct {
	db  *store.DB
	log *slog.Logger
	now func() time.Time
}

// New returns a recorder writing to db.
func New(db *store.DB, log *slog.Logger) *Recorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Recorder{db: db, log: log, now: time.Now}
}

// Record appends e with the actor of ctx. It runs after the change has
// committed; a failure to write is logged at error level (the change is
// done and cannot be undone for it). A nil Recorder records nothing.
func (r *Recorder) Record(ctx context.Context, e Entry) {
	if r == nil {
		return
	}
	a := ActorFrom(ctx)
	details := "{}"
	if len(e.Details) > 0 {
		if b, err := json.Marshal(e.Details); err == nil {
			details = string(b)
		}
	}
	// The change is done even if the request was cancelled meanwhile.
	ctx = context.WithoutCancel(ctx)
	_, err := r.db.AppendAudit(ctx, store.AuditEntry{At: r.now(), Actor: a.Name, ActorKind: a.Kind,
		Action: e.Action, Target: e.Target, IP: a.IP, Details: details})
	if err != nil {
		r.log.Error("writing the audit log failed", "action", e.Action, "target", e.Target, "err", err)
	}
}

// ValidAction reports whether s looks like an action or an action prefix
// ("release.*") for the log's filters.
func ValidAction(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	return strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c == '.' || c == '_' || c == '-' || c == '*')
	}) < 0
}

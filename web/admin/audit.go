package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"herald/audit"
	"herald/store"
	"herald/web/ui"
)

// AuditLog reads the audit log (store.DB).
type AuditLog interface {
	ListAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
}

// auditView is the data of admin/audit.html.
type auditView struct {
	Page    adminPage
	Actor   string
	Action  string
	Since   string
	Until   string
	Entries []auditRow
	Next    string // the next page's URL, "" on the last
	CSV     string // the same filters as CSV (the API's export)
}

type auditRow struct {
	store.AuditEntry
	When string
}

const auditPageSize = 100

// auditPage: GET /admin/audit, the audit log with the filters of GET
// /api/v1/audit (SPEC 7.3): actor, action, since, until (dates or RFC
// 3339 times), cursor.
func (a *Console) auditPage(w http.ResponseWriter, r *http.Request, sess *session) error {
	if a.deps.AuditLog == nil {
		return ui.NotFound("The audit log")
	}
	q := r.URL.Query()
	v := auditView{Page: a.page(sess, "Audit log", "audit"), Actor: strings.TrimSpace(q.Get("actor")),
		Action: strings.TrimSpace(q.Get("action")), Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until"))}
	aq := store.AuditQuery{Actor: v.Actor, Action: v.Action, Limit: auditPageSize}
	if v.Action != "" && !audit.ValidAction(v.Action) {
		return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "The action filter must look like release.publish, or release.* for every release action.")
	}
	var ok bool
	if aq.Since, ok = parseWhen(v.Since, false); !ok {
		return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "\"Since\" must be a date such as 2026-01-31.")
	}
	if aq.Until, ok = parseWhen(v.Until, true); !ok {
		return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "\"Until\" must be a date such as 2026-01-31.")
	}
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n <= 0 {
			return ui.NewError(http.StatusBadRequest, ui.CodeBadRequest, "The page link is damaged; start again from the first page.")
		}
		aq.BeforeID = n
	}
	rows, err := a.deps.AuditLog.ListAudit(r.Context(), aq)
	if err != nil {
		return err
	}
	for _, e := range rows {
		v.Entries = append(v.Entries, auditRow{AuditEntry: e, When: e.At.UTC().Format("2006-01-02 15:04:05")})
	}
	filters := url.Values{}
	for k, val := range map[string]string{"actor": v.Actor, "action": v.Action, "since": rfc3339(aq.Since), "until": rfc3339(aq.Until)} {
		if val != "" {
			filters.Set(k, val)
		}
	}
	v.CSV = "/api/v1/audit.csv?" + filters.Encode()
	if len(rows) == auditPageSize {
		next := url.Values{}
		for k, val := range q {
			next[k] = val
		}
		next.Set("cursor", strconv.FormatInt(rows[len(rows)-1].ID, 10))
		v.Next = "/admin/audit?" + next.Encode()
	}
	return a.pages.Render(w, http.StatusOK, "audit.html", v)
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// parseWhen reads a date (2026-01-31, the whole day for "until") or an
// RFC 3339 time; "" is no bound.
func parseWhen(s string, end bool) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, false
	}
	if end {
		t = t.Add(24*time.Hour - time.Millisecond)
	}
	return t, true
}

package api

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"herald/audit"
	"herald/store"
)

// AuditLog reads the audit log (store.DB).
type AuditLog interface {
	ListAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
}

type auditJSON struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	ActorKind string    `json:"actor_kind"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	IP        string    `json:"ip"`
	Details   rawJSON   `json:"details"`
}

// rawJSON is a stored JSON object written as is.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) {
	if r == "" {
		return []byte("{}"), nil
	}
	return []byte(r), nil
}

type auditList struct {
	Items      []auditJSON `json:"items"`
	NextCursor string      `json:"next_cursor"`
}

// AuditQueryOf reads the audit filters of SPEC 7.3 from a query string:
// actor, action (a prefix with ".*"), since and until (RFC 3339), cursor,
// limit (1-200, default 50).
func auditQueryOf(q map[string][]string) (store.AuditQuery, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	out := store.AuditQuery{Actor: get("actor"), Action: get("action")}
	if out.Action != "" && !audit.ValidAction(out.Action) {
		return out, badRequest("action", "action must look like release.publish, or release.* for every release action")
	}
	err := readLogPage(get, &out.BeforeID, &out.Limit, namedTime{"since", &out.Since}, namedTime{"until", &out.Until})
	return out, err
}

// namedTime is a query parameter holding an RFC 3339 time.
type namedTime struct {
	name string
	dst  *time.Time
}

// readLogPage reads what every newest-first log (audit, bounces) is paged
// and bounded by: its times, cursor (the last id of the previous page) and
// limit.
func readLogPage(get func(string) string, before *int64, limit *int, times ...namedTime) error {
	var err error
	for _, f := range times {
		if v := get(f.name); v != "" {
			if *f.dst, err = time.Parse(time.RFC3339, v); err != nil {
				return badRequest(f.name, f.name+" must be an RFC 3339 time such as 2026-01-31T00:00:00Z")
			}
		}
	}
	if c := get("cursor"); c != "" {
		if *before, err = strconv.ParseInt(c, 10, 64); err != nil || *before <= 0 {
			return badRequest("cursor", "cursor is malformed; pass next_cursor from a previous page")
		}
	}
	*limit, err = parseLimit(get("limit"))
	return err
}

// listAudit: GET /api/v1/audit (SPEC 7.3), newest first.
func (a *API) listAudit(w http.ResponseWriter, r *http.Request) error {
	q, err := auditQueryOf(r.URL.Query())
	if err != nil {
		return err
	}
	rows, err := a.audit.ListAudit(r.Context(), q)
	if err != nil {
		return err
	}
	out := auditList{Items: make([]auditJSON, 0, len(rows))}
	for _, e := range rows {
		out.Items = append(out.Items, auditJSON{ID: strconv.FormatInt(e.ID, 10), At: e.At, Actor: e.Actor, ActorKind: e.ActorKind,
			Action: e.Action, Target: e.Target, IP: e.IP, Details: rawJSON(e.Details)})
	}
	if len(rows) == q.Limit {
		out.NextCursor = strconv.FormatInt(rows[len(rows)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// exportAudit: GET /api/v1/audit.csv: the same filters, every matching
// entry (no limit unless one is given).
func (a *API) exportAudit(w http.ResponseWriter, r *http.Request) error {
	q, err := auditQueryOf(r.URL.Query())
	if err != nil {
		return err
	}
	if r.URL.Query().Get("limit") == "" {
		q.Limit = 0
	}
	rows, err := a.audit.ListAudit(r.Context(), q)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="herald-audit.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"id", "at", "actor", "actor_kind", "action", "target", "ip", "details"})
	for _, e := range rows {
		_ = cw.Write([]string{strconv.FormatInt(e.ID, 10), e.At.Format(time.RFC3339Nano), csvSafe(e.Actor), e.ActorKind,
			e.Action, csvSafe(e.Target), e.IP, csvSafe(e.Details)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

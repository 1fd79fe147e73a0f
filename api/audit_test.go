package api

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"herald/staff"
)

type auditPage struct {
	Items []struct {
		ID        string         `json:"id"`
		Actor     string         `json:"actor"`
		ActorKind string         `json:"actor_kind"`
		Action    string         `json:"action"`
		Target    string         `json:"target"`
		IP        string         `json:"ip"`
		Details   map[string]any `json:"details"`
	} `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func (s *roleSite) audit(query string) auditPage {
	s.t.Helper()
	st, out := s.do(testToken, "GET", "/api/v1/audit"+query, "")
	var p auditPage
	if err := json.Unmarshal([]byte(out), &p); err != nil || st != 200 {
		s.t.Fatalf("audit%s: %d %s", query, st, out)
	}
	return p
}

// TestAudit_EveryChangeByEveryActor makes one change of each kind through
// the API as different principals and finds each in the log, with who,
// what, on what and from where.
func TestAudit_EveryChangeByEveryActor(t *testing.T) {
	s := newRoleSite(t)
	ed, pub := s.tokens[staff.Editor], s.tokens[staff.Publisher]
	seeds := len(s.audit("?limit=200").Items) // the members and tokens of the fixture

	_, out := s.do(ed, "POST", "/api/v1/releases", `{"title":"Draft","body":"b","topics":["migration"],"status":"draft"}`)
	id := idOf(t, out)
	s.do(pub, "PATCH", "/api/v1/releases/"+id, `{"status":"published"}`)
	sub := idOf(t, s.admin("POST", "/api/v1/subscribers", `{"email":"reader@example.org","confirmed":true,"cadence":"immediate"}`))
	s.admin("PATCH", "/api/v1/subscribers/"+sub, `{"cadence":"daily"}`)
	s.do(pub, "POST", "/api/v1/releases/"+id+"/alert", `{"audience":"matching"}`)
	s.do(ed, "POST", "/api/v1/releases/"+id+"/alert", `{"test_to":"editor@example.org"}`)
	s.do(pub, "POST", "/api/v1/digests/daily/run", `{}`)
	s.admin("POST", "/api/v1/topics", `{"slug":"ports","name":"Ports"}`)
	s.admin("GET", "/api/v1/subscribers/export", "")
	s.admin("DELETE", "/api/v1/subscribers/"+sub, "")
	s.do(pub, "DELETE", "/api/v1/releases/"+id, "")

	p := s.audit("?limit=200")
	got := p.Items[:len(p.Items)-seeds]
	var lines []string
	for i := len(got) - 1; i >= 0; i-- {
		e := got[i]
		lines = append(lines, e.Action+" "+e.ActorKind+" "+e.Actor)
		if e.IP != "127.0.0.1" {
			t.Errorf("%s: ip %q", e.Action, e.IP)
		}
	}
	want := []string{
		"release.create token editor@example.org (token:2)",
		"release.update token publisher@example.org (token:3)",
		"release.publish token publisher@example.org (token:3)",
		"subscriber.create admin-token admin-token",
		"subscriber.update admin-token admin-token",
		"alert.send token publisher@example.org (token:3)",
		"alert.test token editor@example.org (token:2)",
		"digest.run token publisher@example.org (token:3)",
		"taxonomy.add admin-token admin-token",
		"subscriber.export admin-token admin-token",
		"subscriber.erase admin-token admin-token",
		"release.delete token publisher@example.org (token:3)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, e := range got {
		switch e.Action {
		case "alert.send":
			if fmt.Sprint(e.Details["release"]) != id || e.Details["audience"] != "matching" || e.Details["recipients"] != float64(1) {
				t.Errorf("alert entry: %+v", e.Details)
			}
		case "subscriber.erase", "subscriber.create", "subscriber.update":
			if strings.Contains(fmt.Sprint(e.Details), "reader@") || e.Target != "subscriber:"+sub {
				t.Errorf("%s keeps the address, or no target: %+v %s", e.Action, e.Details, e.Target)
			}
		}
	}

	// Filters: action prefix, actor, time window, paging.
	if p := s.audit("?action=release.*&limit=200"); len(p.Items) != 4 {
		t.Errorf("release.*: %d entries", len(p.Items))
	}
	if p := s.audit("?actor=admin-token&action=subscriber.create"); len(p.Items) != 1 {
		t.Errorf("actor filter: %d", len(p.Items))
	}
	if p := s.audit("?until=2000-01-01T00:00:00Z"); len(p.Items) != 0 {
		t.Errorf("until filter: %d", len(p.Items))
	}
	if p := s.audit("?since=2000-01-01T00:00:00Z&limit=200"); len(p.Items) != len(got)+seeds {
		t.Errorf("since filter: %d", len(p.Items))
	}
	first := s.audit("?limit=5")
	second := s.audit("?limit=5&cursor=" + first.NextCursor)
	a, _ := strconv.Atoi(first.Items[4].ID)
	b, _ := strconv.Atoi(second.Items[0].ID)
	if len(first.Items) != 5 || first.NextCursor != first.Items[4].ID || len(second.Items) != 5 || b != a-1 {
		t.Errorf("paging: %v / %v", first.NextCursor, second.Items)
	}
	for _, q := range []string{"?since=yesterday", "?action=DROP%20TABLE", "?cursor=x", "?limit=0"} {
		if st, out := s.do(testToken, "GET", "/api/v1/audit"+q, ""); st != 400 || !strings.Contains(out, `"field"`) {
			t.Errorf("%s: %d %s", q, st, out)
		}
	}

	// The CSV export has the same entries.
	st, body := s.do(testToken, "GET", "/api/v1/audit.csv?action=alert.*", "")
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if st != 200 || err != nil || len(recs) != 3 || strings.Join(recs[0], ",") != "id,at,actor,actor_kind,action,target,ip,details" ||
		recs[1][4] != "alert.test" || recs[2][4] != "alert.send" {
		t.Fatalf("csv: %d %v %q", st, err, body)
	}

	// No route changes or deletes an entry.
	before := s.audit("?limit=200")
	entry := "/api/v1/audit/" + before.Items[0].ID
	for _, c := range [][2]string{{"DELETE", entry}, {"PATCH", entry}, {"PUT", entry}, {"DELETE", "/api/v1/audit"}, {"POST", "/api/v1/audit"},
		{"PATCH", "/api/v1/audit"}, {"DELETE", "/api/v1/audit.csv"}} {
		if st, _ := s.do(testToken, c[0], c[1], `{"action":"nothing"}`); st != 404 && st != 405 {
			t.Errorf("%s %s: %d", c[0], c[1], st)
		}
	}
	after := s.audit("?limit=200")
	if b, _ := json.Marshal(before); string(b) != mustJSON(after) {
		t.Fatal("the log changed")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

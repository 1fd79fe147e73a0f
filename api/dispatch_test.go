package api

import (
	"fmt"
	"testing"
	"time"
)

func TestAlertsAPI(t *testing.T) {
	a := newAPISite(t)
	for i, c := range []string{"immediate", "daily", "daily"} {
		body := fmt.Sprintf(`{"email":"s%d@example.org","cadence":%q,"confirmed":true}`, i, c)
		if st, _ := a.json("POST", "/api/v1/subscribers", body); st != 201 {
			t.Fatalf("add subscriber: %d", st)
		}
	}
	st, rel := a.json("POST", "/api/v1/releases", `{"title":"Urgent","body":"b","topics":["emergencies"]}`)
	if st != 201 {
		t.Fatalf("create release: %d", st)
	}
	path := "/api/v1/releases/" + rel["id"].(string) + "/alert"

	st, dry := a.json("POST", path, `{"dry_run":true}`)
	if st != 202 || dry["recipients"] != float64(3) || dry["alert_id"] != "" {
		t.Fatalf("dry run: %d %v", st, dry)
	}
	st, imm := a.json("POST", path, `{"audience":"immediate","dry_run":true}`)
	if st != 202 || imm["recipients"] != float64(1) {
		t.Fatalf("immediate dry run: %d %v", st, imm)
	}
	st, real := a.json("POST", path, "")
	if st != 202 || real["recipients"] != dry["recipients"] || real["alert_id"] == "" {
		t.Fatalf("alert: %d %v", st, real)
	}
	st, again := a.json("POST", path, `{}`)
	if st != 202 || again["recipients"] != float64(0) {
		t.Fatalf("second alert: %d %v", st, again)
	}
	st, status := a.json("GET", "/api/v1/alerts/"+real["alert_id"].(string), "")
	for _, k := range []string{"id", "release_id", "recipients", "queued", "sent", "failed", "created_at", "finished_at"} {
		if _, ok := status[k]; !ok {
			t.Errorf("alert status lacks %q: %v", k, status)
		}
	}
	if st != 200 || status["recipients"] != float64(3) || status["queued"] != float64(3) || status["finished_at"] != nil ||
		status["release_id"] != rel["id"] {
		t.Fatalf("alert status: %d %v", st, status)
	}
	st, test := a.json("POST", path, `{"test_to":"officer@example.org"}`)
	if st != 202 || test["recipients"] != float64(1) {
		t.Fatalf("test copy: %d %v", st, test)
	}

	for _, c := range []struct {
		path, body string
		status     int
		field      string
	}{
		{path, `{"audience":"all"}`, 422, "audience"},
		{path, `{"test_to":"x@example.org\r\nBcc: y@example.org"}`, 422, "test_to"},
		{path, `{"dry_run":"yes"}`, 422, "dry_run"},
		{path, `{"dry_run":`, 400, ""},
		{"/api/v1/releases/9999/alert", `{}`, 404, ""},
		{"/api/v1/alerts/9999", ``, 404, ""},
		{"/api/v1/digests/monthly/run", `{}`, 404, "cadence"},
	} {
		method := "POST"
		if c.body == "" {
			method = "GET"
		}
		st, e := a.json(method, c.path, c.body)
		if st != c.status || e["error"] == nil || (c.field != "" && e["field"] != c.field) {
			t.Errorf("%s %s: %d %v, want %d field %q", method, c.path, st, e, c.status, c.field)
		}
	}
	later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	_, emb := a.json("POST", "/api/v1/releases", `{"title":"Later","body":"b","topics":["emergencies"],"published_at":"`+later+`"}`)
	if st, e := a.json("POST", "/api/v1/releases/"+emb["id"].(string)+"/alert", `{}`); st != 409 || e["error"] == nil {
		t.Errorf("alert of an embargoed release: %d %v", st, e)
	}
}

func TestDigestsAndStatsAPI(t *testing.T) {
	a := newAPISite(t)
	if st, _ := a.json("POST", "/api/v1/subscribers", `{"email":"w@example.org","cadence":"weekly","confirmed":true}`); st != 201 {
		t.Fatal("add subscriber")
	}
	if st, _ := a.json("POST", "/api/v1/subscribers", `{"email":"p@example.org"}`); st != 201 {
		t.Fatal("add pending subscriber")
	}
	time.Sleep(5 * time.Millisecond)
	a.json("POST", "/api/v1/releases", `{"title":"News","body":"b","topics":["migration"]}`)
	a.json("POST", "/api/v1/releases", `{"title":"Draft","body":"b","topics":["migration"],"status":"draft"}`)
	if st, r := a.json("POST", "/api/v1/digests/weekly/run", `{"dry_run":true}`); st != 202 || r["recipients"] != float64(1) {
		t.Fatalf("dry run: %d %v", st, r)
	}
	if st, r := a.json("POST", "/api/v1/digests/weekly/run", ``); st != 202 || r["recipients"] != float64(1) {
		t.Fatalf("run: %d %v", st, r)
	}
	if st, r := a.json("POST", "/api/v1/digests/weekly/run", ``); st != 202 || r["recipients"] != float64(0) {
		t.Fatalf("repeated run: %d %v", st, r)
	}
	if st, r := a.json("POST", "/api/v1/digests/daily/run", ``); st != 202 || r["recipients"] != float64(0) {
		t.Fatalf("daily run: %d %v", st, r)
	}
	st, stats := a.json("GET", "/api/v1/stats", "")
	if st != 200 {
		t.Fatalf("stats: %d", st)
	}
	subs, _ := stats["subscribers"].(map[string]any)
	msgs, _ := stats["messages"].(map[string]any)
	rels, _ := stats["releases"].(map[string]any)
	if subs["active"] != float64(1) || subs["pending"] != float64(1) || subs["bounced"] != float64(0) ||
		msgs["queued"] != float64(2) /* the digest and a confirmation */ || msgs["sent"] != float64(0) ||
		rels["live"] != float64(1) || rels["draft"] != float64(1) {
		t.Fatalf("stats = %v", stats)
	}
}

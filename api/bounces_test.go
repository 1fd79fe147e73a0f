package api

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"herald/store"
	"herald/subscribers"
)

func TestBounces_ListFiltersAndStats(t *testing.T) {
	s := newRoleSite(t)
	ctx := context.Background()
	subs, err := subscribers.New(s.db, nil, subscribers.Options{Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := s.db.SeedSubscribers(ctx, []store.SeedSubscriber{{Email: "ana@example.net"}, {Email: "ben@example.net"}, {Email: "cy@example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []subscribers.BounceReport{
		{Kind: "hard", Source: "ses", Recipient: "ana@example.net", ByRecipient: true, EventID: "1", Diagnostic: "5.1.1 unknown"},
		{Kind: "soft", Source: "mailgun", Recipient: "ben@example.net", ByRecipient: true, EventID: "2"},
		{Kind: "complaint", Source: "postmark", Recipient: "cy@example.net", ByRecipient: true, EventID: "3"},
	} {
		if _, err := subs.RecordBounce(ctx, r, 5); err != nil {
			t.Fatalf("report %d: %v", i, err)
		}
	}
	var list bounceList
	if err := json.Unmarshal([]byte(s.admin("GET", "/api/v1/bounces", "")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 3 || list.Items[0].Kind != "complaint" || list.Items[2].Email != "ana@example.net" ||
		*list.Items[2].SubscriberID != itoa64(ids[0]) || list.Items[2].Source != "ses" || list.Items[2].Diagnostic != "5.1.1 unknown" {
		t.Fatalf("list %+v", list)
	}
	for q, want := range map[string]int{"kind=hard": 1, "source=mailgun": 1, "kind=soft&source=ses": 0,
		"since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339): 0, "limit=2": 2} {
		var l bounceList
		json.Unmarshal([]byte(s.admin("GET", "/api/v1/bounces?"+q, "")), &l)
		if len(l.Items) != want {
			t.Errorf("%s: %d items, want %d", q, len(l.Items), want)
		}
		if q == "limit=2" {
			var next bounceList
			json.Unmarshal([]byte(s.admin("GET", "/api/v1/bounces?limit=2&cursor="+l.NextCursor, "")), &next)
			if len(next.Items) != 1 || next.Items[0].Kind != "hard" {
				t.Errorf("second page %+v", next)
			}
		}
	}
	for q, field := range map[string]string{"kind=bounce": "kind", "source=smtp2": "source", "since=yesterday": "since", "cursor=x": "cursor"} {
		if code, body := s.do(testToken, "GET", "/api/v1/bounces?"+q, ""); code != 400 || !strings.Contains(body, `"field":"`+field+`"`) {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
	var st struct {
		Bounces bounceStats `json:"bounces"`
	}
	if err := json.Unmarshal([]byte(s.admin("GET", "/api/v1/stats", "")), &st); err != nil {
		t.Fatal(err)
	}
	if b := st.Bounces; b.Days != 30 || b.Hard != 1 || b.Soft != 1 || b.Complaint != 1 || b.Sent != 0 || b.ComplaintRate != 0 {
		t.Fatalf("stats %+v", b)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

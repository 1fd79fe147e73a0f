package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/mailer/smtptest"
)

type subscriberItem struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Status string `json:"status"`
}

// subscribersOf lists every subscriber through the API.
func subscribersOf(t *testing.T, d *daemon, token string) []subscriberItem {
	t.Helper()
	var list struct{ Items []subscriberItem }
	if code := d.api(t, token, "GET", "/api/v1/subscribers?limit=200", "", &list); code != 200 {
		t.Fatalf("list subscribers: %d", code)
	}
	return list.Items
}

// TestFlow_AddressesAreCaseInsensitive: six capitalizations of one address
// posted within a second reach the mailbox once; an erased address
// imported in other capitals stays suppressed; an IDN domain and its
// punycode are one subscriber (SPEC 11).
func TestFlow_AddressesAreCaseInsensitive(t *testing.T) {
	srv := smtptest.New(t, smtptest.Options{})
	dir := t.TempDir()
	d := startDaemon(t, dir, fmt.Sprintf("HERALD_SMTP_URL=smtp://%s?tls=none", srv.Addr))
	token := readToken(t, dir)

	variants := []string{"ana@example.org", "Ana@example.org", "ANA@example.org", "aNa@Example.org", "anA@EXAMPLE.ORG", "AnA@example.ORG"}
	var wg sync.WaitGroup
	codes := make([]int, len(variants))
	for i, v := range variants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(d.base+"/subscribe", "application/json", strings.NewReader(`{"email":"`+v+`"}`))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 200 {
			t.Fatalf("POST /subscribe %q: %d", variants[i], c)
		}
	}
	msgs := srv.Wait(t, 1, 20*time.Second)
	time.Sleep(3 * time.Second)
	if n := srv.Count(); n != 1 {
		t.Fatalf("six capitalizations of one address got %d mails, want 1", n)
	}
	if got := toAddr(t, parseMail(t, msgs[0]).header); !strings.EqualFold(got, "ana@example.org") {
		t.Fatalf("the mail went to %q", got)
	}
	subs := subscribersOf(t, d, token)
	if len(subs) != 1 {
		t.Fatalf("%d subscribers, want 1: %+v", len(subs), subs)
	}

	// Admin add of another capitalization: 409.
	if code := d.api(t, token, "POST", "/api/v1/subscribers", `{"email":"ANA@EXAMPLE.org","confirmed":true}`, nil); code != 409 {
		t.Fatalf("admin add of a case variant: %d, want 409", code)
	}

	// Erased, then imported in other capitals: stays suppressed.
	if code := d.api(t, token, "POST", "/api/v1/subscribers", `{"email":"erased@example.org","confirmed":true}`, nil); code != 201 {
		t.Fatalf("add: %d", code)
	}
	var erasedID string
	for _, s := range subscribersOf(t, d, token) {
		if s.Email == "erased@example.org" {
			erasedID = s.ID
		}
	}
	if code := d.api(t, token, "DELETE", "/api/v1/subscribers/"+erasedID, "", nil); code != 204 {
		t.Fatalf("erase: %d", code)
	}
	req, _ := http.NewRequest("POST", d.base+"/api/v1/subscribers/import", strings.NewReader("email\nErased@example.org\nERASED@EXAMPLE.ORG\n"))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("import: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, s := range subscribersOf(t, d, token) {
		if strings.EqualFold(s.Email, "erased@example.org") {
			t.Fatalf("an erased address came back through an import in other capitals: %+v", s)
		}
	}
	if code := d.api(t, token, "POST", "/api/v1/subscribers", `{"email":"Erased@Example.org"}`, nil); code != 409 {
		t.Fatalf("admin add of an erased address in other capitals: %d, want 409", code)
	}

	// IDN: the Unicode domain and its punycode are one subscriber, stored in ASCII.
	var added subscriberItem
	if code := d.api(t, token, "POST", "/api/v1/subscribers", `{"email":"user@Bücher.de","confirmed":true}`, &added); code != 201 || added.Email != "user@xn--bcher-kva.de" {
		t.Fatalf("add IDN: %d %+v", code, added)
	}
	if code := d.api(t, token, "POST", "/api/v1/subscribers", `{"email":"user@xn--bcher-kva.de"}`, nil); code != 409 {
		t.Fatalf("add of the punycode form: %d, want 409", code)
	}

	// Impossible domains: 422 naming email.
	for _, bad := range []string{"a@b", "a@-example.org", "a@localhost", "a@[192.0.2.1]"} {
		var e struct{ Error, Field string }
		if code := d.api(t, token, "POST", "/api/v1/subscribers", `{"email":"`+bad+`"}`, &e); code != 422 || e.Field != "email" {
			t.Errorf("add %q: %d %+v, want 422 on email", bad, code, e)
		}
	}
	out, _, code := cli(t, dir, "", "db", "check")
	if code != 0 || !strings.Contains(out, "addresses") || !strings.Contains(out, "ok") {
		t.Errorf("db check: %d\n%s", code, out)
	}
	d.stop(t)
}

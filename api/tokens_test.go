package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"herald/staff"
)

func TestMe_EachPrincipalKind(t *testing.T) {
	s := newRoleSite(t)
	for _, c := range []struct {
		tok, kind, email, role string
	}{
		{testToken, "admin-token", "", "admin"},
		{s.tokens[staff.Editor], "token", "editor@example.org", "editor"},
	} {
		st, out := s.do(c.tok, "GET", "/api/v1/me", "")
		var me map[string]string
		if err := json.Unmarshal([]byte(out), &me); err != nil || st != 200 {
			t.Fatalf("me: %d %s", st, out)
		}
		for _, k := range []string{"kind", "id", "email", "name", "role"} {
			if _, ok := me[k]; !ok {
				t.Errorf("me lacks %q: %s", k, out)
			}
		}
		if me["kind"] != c.kind || me["email"] != c.email || me["role"] != c.role {
			t.Errorf("me = %v", me)
		}
	}
}

func TestTokens_ShownOnceRoleCappedRevocable(t *testing.T) {
	s := newRoleSite(t)
	ed := s.tokens[staff.Editor]
	// At most the maker's role; an unknown role is refused too.
	if st, out := s.do(ed, "POST", "/api/v1/tokens", `{"name":"x","role":"publisher"}`); st != 403 || !strings.Contains(out, "at most your own (editor)") {
		t.Fatalf("escalation: %d %s", st, out)
	}
	if st, out := s.do(ed, "POST", "/api/v1/tokens", `{"name":"x","role":"root"}`); st != 422 || !strings.Contains(out, `"field":"role"`) {
		t.Fatalf("unknown role: %d %s", st, out)
	}
	if st, out := s.do(ed, "POST", "/api/v1/tokens", `{"name":""}`); st != 422 || !strings.Contains(out, `"field":"name"`) {
		t.Fatalf("no name: %d %s", st, out)
	}
	st, out := s.do(ed, "POST", "/api/v1/tokens", `{"name":"ci","role":"viewer"}`)
	var made map[string]any
	_ = json.Unmarshal([]byte(out), &made)
	secret, _ := made["token"].(string)
	if st != 201 || !strings.HasPrefix(secret, "hrd_") || made["role"] != "viewer" || made["owner"] != "editor@example.org" {
		t.Fatalf("create: %d %s", st, out)
	}
	// Listed without the secret; the editor sees only their own, the admin all.
	_, list := s.do(ed, "GET", "/api/v1/tokens", "")
	if strings.Contains(list, secret) || strings.Contains(list, secret[4:]) || strings.Contains(list, "matrix viewer") || !strings.Contains(list, `"ci"`) {
		t.Fatalf("editor's list: %s", list)
	}
	if _, all := s.do(testToken, "GET", "/api/v1/tokens", ""); !strings.Contains(all, "matrix viewer") || !strings.Contains(all, `"ci"`) {
		t.Fatalf("admin's list: %s", all)
	}
	// The new token works with its own role.
	if st, out := s.do(secret, "GET", "/api/v1/me", ""); st != 200 || !strings.Contains(out, `"role":"viewer"`) {
		t.Fatalf("me with the new token: %d %s", st, out)
	}
	if st, _ := s.do(secret, "POST", "/api/v1/releases", `{"title":"d","body":"b","status":"draft"}`); st != 403 {
		t.Fatalf("viewer token made a draft: %d", st)
	}
	// Someone else's token cannot be revoked (not found); one's own can.
	id := made["id"].(float64)
	path := "/api/v1/tokens/" + jsonNum(id)
	if st, _ := s.do(s.tokens[staff.Publisher], "DELETE", path, ""); st != 404 {
		t.Fatalf("revoking another's token: %d", st)
	}
	if st, _ := s.do(ed, "DELETE", path, ""); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	if st, _ := s.do(secret, "GET", "/api/v1/me", ""); st != 401 {
		t.Fatalf("revoked token: %d", st)
	}
	if st, _ := s.do(ed, "DELETE", path, ""); st != 404 {
		t.Fatalf("second revoke: %d", st)
	}
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

func TestTokens_DisabledMemberAndDemotion(t *testing.T) {
	s := newRoleSite(t)
	pub := s.tokens[staff.Publisher]
	_, staffList := s.do(testToken, "GET", "/api/v1/staff", "")
	var list struct {
		Items []staff.Member `json:"items"`
	}
	_ = json.Unmarshal([]byte(staffList), &list)
	var id string
	for _, m := range list.Items {
		if m.Email == "publisher@example.org" {
			id = jsonNum(float64(m.ID))
		}
	}
	// Demoted: the token keeps at most the member's current role.
	if st, _ := s.do(testToken, "PATCH", "/api/v1/staff/"+id, `{"role":"viewer"}`); st != 200 {
		t.Fatal(st)
	}
	if st, out := s.do(pub, "GET", "/api/v1/me", ""); st != 200 || !strings.Contains(out, `"role":"viewer"`) {
		t.Fatalf("demoted member's token: %d %s", st, out)
	}
	// Disabled (DELETE): the token stops at once; the member stays listed.
	if st, out := s.do(testToken, "DELETE", "/api/v1/staff/"+id, ""); st != 200 || !strings.Contains(out, `"disabled":true`) {
		t.Fatalf("disable: %d %s", st, out)
	}
	if st, out := s.do(pub, "GET", "/api/v1/me", ""); st != 401 || !strings.Contains(out, "disabled") {
		t.Fatalf("disabled member's token: %d %s", st, out)
	}
	if st, out := s.do(testToken, "GET", "/api/v1/staff/"+id, ""); st != 200 || !strings.Contains(out, "publisher@example.org") {
		t.Fatalf("history: %d %s", st, out)
	}
}

func TestStaffAPI_BadInput(t *testing.T) {
	s := newRoleSite(t)
	for body, want := range map[string]string{
		`{"email":"VIEWER@example.org","role":"viewer"}`: `409 "field":"email"`,
		`{"email":"new@example.org","role":"superuser"}`: `422 "field":"role"`,
		`{"email":"new@example.org"}`:                    `422 "field":"role"`,
		`{"email":"not-an-address","role":"viewer"}`:     `422 "field":"email"`,
		`{"email":`: `400 `,
	} {
		st, out := s.do(testToken, "POST", "/api/v1/staff", body)
		code, field, _ := strings.Cut(want, " ")
		if jsonNum(float64(st)) != code || !strings.Contains(out, field) {
			t.Errorf("%s: %d %s, want %s", body, st, out, want)
		}
	}
	_, list := s.do(testToken, "GET", "/api/v1/staff", "")
	if strings.Count(list, `"email"`) != 4 {
		t.Fatalf("refused creations changed the staff: %s", list)
	}
	if st, _ := s.do(testToken, "PATCH", "/api/v1/staff/999", `{"role":"viewer"}`); st != 404 {
		t.Fatalf("unknown member: %d", st)
	}
}

func TestBearer_FailuresRateLimited(t *testing.T) {
	s := newRoleSite(t)
	a := New(Options{AdminToken: testToken, BearerBurst: 3}, Deps{Releases: s.api.releases, Staff: s.staff, Limits: s.db})
	mux := http.NewServeMux()
	a.Register(mux)
	s.srv.Config.Handler = mux
	for i := 0; i < 3; i++ {
		if st, _ := s.do("hrd_"+strings.Repeat("x", 43), "GET", "/api/v1/me", ""); st != 401 {
			t.Fatalf("attempt %d: %d", i, st)
		}
	}
	st, out := s.do(testToken, "GET", "/api/v1/me", "")
	if st != 429 || !strings.Contains(out, "too many failed attempts") {
		t.Fatalf("after 3 failures even the right token waits: %d %s", st, out)
	}
}

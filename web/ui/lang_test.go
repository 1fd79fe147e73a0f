package ui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestAcceptLang(t *testing.T) {
	tests := []struct {
		header, want string
		ok           bool
	}{
		{"", "", false},
		{"fr-CH, fr;q=0.9, en;q=0.8", "fr", true},
		{"de-DE, es;q=0.5, en;q=0.4", "es", true},
		{"ar-EG,ar;q=0.9,en;q=0.5", "ar", true},
		{"ar-SA", "ar", true},
		{"es-419", "es", true},
		{"en-GB;q=0.2, fr-CA;q=0.8", "fr", true},
		{"de", "", false},
		{"*;q=0.1, ***", "", false},
	}
	for _, tt := range tests {
		got, ok := AcceptLang(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("AcceptLang(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRequestLang_Order(t *testing.T) {
	tests := []struct {
		name, query, cookie, known, accept, want, visitor string
	}{
		{"nothing", "", "", "", "", "en", "en"},
		{"accept", "", "", "", "es", "es", "es"},
		{"known beats accept for a subscriber, not for a visitor", "", "", "fr", "es", "fr", "es"},
		{"known serves a browser with no language of ours", "", "", "ar", "de", "ar", "ar"},
		{"cookie beats known and accept", "", "ar", "fr", "es", "ar", "ar"},
		{"query beats the cookie", "?lang=es", "ar", "fr", "en", "es", "es"},
		{"unknown query and cookie are ignored", "?lang=xx", "zz", "", "fr", "fr", "fr"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/subscribe"+tt.query, nil)
		if tt.cookie != "" {
			r.AddCookie(&http.Cookie{Name: LangCookie, Value: tt.cookie})
		}
		if tt.accept != "" {
			r.Header.Set("Accept-Language", tt.accept)
		}
		if got := RequestLang(r, tt.known); got != tt.want {
			t.Errorf("%s: RequestLang = %q, want %q", tt.name, got, tt.want)
		}
		if got := VisitorLang(r, tt.known); got != tt.visitor {
			t.Errorf("%s: VisitorLang = %q, want %q", tt.name, got, tt.visitor)
		}
	}
}

func TestRememberLang(t *testing.T) {
	w := httptest.NewRecorder()
	RememberLang(w, httptest.NewRequest("GET", "/?lang=ar", nil))
	c := w.Result().Cookies()
	if len(c) != 1 || c[0].Name != LangCookie || c[0].Value != "ar" || c[0].Path != "/" || c[0].MaxAge <= 0 || !c[0].HttpOnly {
		t.Fatalf("cookie %+v", c)
	}
	for _, target := range []string{"/", "/?lang=xx"} {
		w = httptest.NewRecorder()
		RememberLang(w, httptest.NewRequest("GET", target, nil))
		if len(w.Result().Cookies()) != 0 {
			t.Errorf("%s set a cookie", target)
		}
	}
}

func TestLangLinks_KeepTheQuery(t *testing.T) {
	u, _ := url.Parse("/preferences?token=abc.def&lang=fr")
	links := LangLinks(u, "fr")
	if len(links) != len(PageLanguages) {
		t.Fatalf("%d links", len(links))
	}
	for _, l := range links {
		if !strings.HasPrefix(l.Href, "/preferences?") || !strings.Contains(l.Href, "token=abc.def") || !strings.Contains(l.Href, "lang="+l.Code) {
			t.Errorf("link %+v", l)
		}
		if l.Current != (l.Code == "fr") {
			t.Errorf("current %+v", l)
		}
	}
}

package subscribers

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"herald/internal/clocktest"
)

func newTestTokens(clock *clocktest.Clock) *Tokens {
	return NewTokens(testSecret, "https://press.example.org", clock.Now)
}

func TestTokens_RoundTrip(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tk := newTestTokens(clock)
	for _, p := range []Purpose{PurposeConfirm, PurposeUnsubscribe, PurposePreferences} {
		for _, id := range []int64{1, 127, 128, 42424242, 1 << 40} {
			tok := tk.Make(p, id)
			if len(tok) > 48 || url.QueryEscape(tok) != tok {
				t.Errorf("token %q is not compact and URL-safe", tok)
			}
			got, err := tk.Verify(p, tok)
			if err != nil || got != id {
				t.Errorf("Verify(%c, Make(%d)) = %d, %v", p, id, got, err)
			}
		}
	}
}

func TestTokens_Refused(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tk := newTestTokens(clock)
	unsub := tk.Make(PurposeUnsubscribe, 7)
	other := NewTokens([]byte("another secret of enough length!"), "https://press.example.org", clock.Now)
	tests := []struct {
		name    string
		purpose Purpose
		token   string
	}{
		{"empty", PurposeUnsubscribe, ""},
		{"garbage", PurposeUnsubscribe, "not-a-token"},
		{"not base64url", PurposeUnsubscribe, "a+b/c=="},
		{"padded", PurposeUnsubscribe, unsub + "=="},
		{"truncated", PurposeUnsubscribe, unsub[:len(unsub)-2]},
		{"extended", PurposeUnsubscribe, unsub + "AA"},
		{"very long", PurposeUnsubscribe, strings.Repeat("A", 10000)},
		{"other purpose: unsubscribe as confirm", PurposeConfirm, unsub},
		{"other purpose: unsubscribe as preferences", PurposePreferences, unsub},
		{"other purpose: confirm as unsubscribe", PurposeUnsubscribe, tk.Make(PurposeConfirm, 7)},
		{"other key", PurposeUnsubscribe, other.Make(PurposeUnsubscribe, 7)},
		{"id zero", PurposeUnsubscribe, tk.Make(PurposeUnsubscribe, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if id, err := tk.Verify(tt.purpose, tt.token); !errors.Is(err, ErrBadToken) {
				t.Fatalf("Verify = %d, %v; want ErrBadToken", id, err)
			}
		})
	}
}

// Every single-character change of a token is refused, so that a token
// cannot be re-targeted to another subscriber or purpose.
func TestTokens_Tampered(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tk := newTestTokens(clock)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for _, p := range []Purpose{PurposeConfirm, PurposeUnsubscribe} {
		tok := tk.Make(p, 1234)
		for i := range tok {
			for _, c := range alphabet {
				if byte(c) == tok[i] {
					continue
				}
				forged := tok[:i] + string(c) + tok[i+1:]
				if id, err := tk.Verify(p, forged); err == nil {
					t.Fatalf("forged token %q accepted as subscriber %d", forged, id)
				}
			}
		}
	}
}

func TestTokens_ConfirmExpires(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tk := newTestTokens(clock)
	confirm := tk.Make(PurposeConfirm, 9)
	unsub := tk.Make(PurposeUnsubscribe, 9)
	prefs := tk.Make(PurposePreferences, 9)
	clock.Add(ConfirmTTL - time.Minute)
	if _, err := tk.Verify(PurposeConfirm, confirm); err != nil {
		t.Fatalf("confirm token refused before 7 days: %v", err)
	}
	clock.Add(2 * time.Minute)
	if _, err := tk.Verify(PurposeConfirm, confirm); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("confirm token after 7 days: %v, want ErrTokenExpired", err)
	}
	clock.Add(10 * 365 * 24 * time.Hour)
	for _, c := range []struct {
		p   Purpose
		tok string
	}{{PurposeUnsubscribe, unsub}, {PurposePreferences, prefs}} {
		if id, err := tk.Verify(c.p, c.tok); err != nil || id != 9 {
			t.Fatalf("%c token after ten years: %d, %v", c.p, id, err)
		}
	}
}

func TestTokens_URLs(t *testing.T) {
	clock := clocktest.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	tk := NewTokens(testSecret, "https://press.example.org/", clock.Now)
	for _, c := range []struct {
		url, path string
		p         Purpose
	}{
		{tk.ConfirmURL(5), "/confirm", PurposeConfirm},
		{tk.UnsubscribeURL(5), "/unsubscribe", PurposeUnsubscribe},
		{tk.PreferencesURL(5), "/preferences", PurposePreferences},
	} {
		u, err := url.Parse(c.url)
		if err != nil || u.Scheme != "https" || u.Host != "press.example.org" || u.Path != c.path {
			t.Fatalf("URL %q", c.url)
		}
		if id, err := tk.Verify(c.p, u.Query().Get("token")); err != nil || id != 5 {
			t.Fatalf("token of %q: %d, %v", c.url, id, err)
		}
	}
}

func BenchmarkTokens_UnsubscribeURL(b *testing.B) {
	tk := NewTokens(testSecret, "https://press.example.org", time.Now)
	for i := 0; b.Loop(); i++ {
		_ = tk.UnsubscribeURL(int64(i + 1))
	}
}

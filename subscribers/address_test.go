package subscribers

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeAddress(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "ana@example.org", "ana@example.org", true},
		{"trimmed", "  ana@example.org \t", "ana@example.org", true},
		{"domain lower-cased", "Ana.Maria@Example.ORG", "Ana.Maria@example.org", true},
		{"plus tag", "ana+press@example.org", "ana+press@example.org", true},
		{"unicode domain", "ana@ÉXAMPLE.org", "ana@éxample.org", true},
		{"empty", "   ", "", false},
		{"no at", "ana.example.org", "", false},
		{"no domain", "ana@", "", false},
		{"no local part", "@example.org", "", false},
		{"display name", "Ana <ana@example.org>", "", false},
		{"two addresses", "ana@example.org, bob@example.org", "", false},
		{"space inside", "ana maria@example.org", "", false},
		{"quoted local part", `"ana maria"@example.org`, "", false},
		{"CRLF header injection", "ana@example.org\r\nBcc: all@example.org", "", false},
		{"LF", "ana@example.org\n", "ana@example.org", true},
		{"NUL", "ana\x00@example.org", "", false},
		{"invalid UTF-8", "ana\xff@example.org", "", false},
		{"script", "<script>@example.org", "", false},
		{"local part too long", strings.Repeat("a", 65) + "@example.org", "", false},
		{"address too long", "a@" + strings.Repeat("b", 250) + ".org", "", false},
		{"double dot domain", "ana@example..org", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeAddress(tt.in)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Fatalf("NormalizeAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "email" {
				t.Fatalf("NormalizeAddress(%q) = %q, %v; want a validation error on email", tt.in, got, err)
			}
		})
	}
}

func TestHashAddress(t *testing.T) {
	h := HashAddress("ana@example.org")
	if len(h) != 64 || strings.Contains(h, "ana") {
		t.Fatalf("hash %q is not a hex SHA-256", h)
	}
	if h == HashAddress("Ana@example.org") {
		t.Fatal("different addresses share a hash")
	}
}

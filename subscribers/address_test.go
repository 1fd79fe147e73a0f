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
		{"unicode domain to ASCII", "ana@ÉXAMPLE.org", "ana@xn--xample-9ua.org", true},
		{"IDN", "user@Bücher.de", "user@xn--bcher-kva.de", true},
		{"punycode lower-cased", "user@XN--BCHER-KVA.DE", "user@xn--bcher-kva.de", true},
		{"subdomain", "a@mail.example.co.uk", "a@mail.example.co.uk", true},
		{"inner hyphen", "a@my-org.example", "a@my-org.example", true},
		{"no dot", "a@b", "", false},
		{"leading hyphen", "a@-example.org", "", false},
		{"trailing hyphen", "a@example-.org", "", false},
		{"hyphen before TLD", "a@example.-org", "", false},
		{"localhost", "a@localhost", "", false},
		{"localhost subdomain", "a@mail.localhost", "", false},
		{"IPv4", "a@192.0.2.1", "", false},
		{"IP literal", "a@[192.0.2.1]", "", false},
		{"IPv6 literal", "a@[IPv6:2001:db8::1]", "", false},
		{"underscore", "a@exa_mple.org", "", false},
		{"label too long", "a@" + strings.Repeat("b", 64) + ".org", "", false},
		{"trailing dot", "a@example.org.", "", false},
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
	if h != HashAddress("Ana@EXAMPLE.org") {
		t.Fatal("capitals change the suppression hash")
	}
	if h == HashAddress("bob@example.org") {
		t.Fatal("different addresses share a hash")
	}
}

package subscribers

import "strings"

// domainAllowed applies HERALD_SIGNUP_DOMAINS_ALLOW and _BLOCK to a
// normalized address (SPEC 11). It looks at the address only, never at
// what is stored, so known and new addresses get the same answer.
func (s *Service) domainAllowed(email string) error {
	domain := email[strings.LastIndexByte(email, '@')+1:]
	if len(s.allow) > 0 && !matchAny(s.allow, domain) {
		return invalid("email", "cannot subscribe here: this list is open to addresses of some domains only")
	}
	if matchAny(s.block, domain) {
		return invalid("email", "cannot subscribe here: addresses of this domain are not accepted")
	}
	return nil
}

// matchAny reports whether domain (lower-case ASCII) matches one of
// patterns: "example.org" matches that domain exactly, "*.gov" any domain
// under gov (not gov itself).
func matchAny(patterns []string, domain string) bool {
	for _, p := range patterns {
		if rest, ok := strings.CutPrefix(p, "*."); ok {
			if strings.HasSuffix(domain, "."+rest) {
				return true
			}
		} else if domain == p {
			return true
		}
	}
	return false
}

func lowerAll(ps []string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

package subscribers

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// solveALTCHA solves a challenge the way the ALTCHA specification
// describes a client doing it: try number = 0..maxnumber until hex
// SHA-256(salt + number) equals challenge, then send base64 of the JSON
// {"algorithm","challenge","number","salt","signature"}.
func solveALTCHA(t testing.TB, c Challenge) string {
	t.Helper()
	for n := int64(0); n <= c.MaxNumber; n++ {
		sum := sha256.Sum256([]byte(c.Salt + strconv.FormatInt(n, 10)))
		if hex.EncodeToString(sum[:]) == c.Challenge {
			return altchaPayload(c.Algorithm, c.Challenge, n, c.Salt, c.Signature)
		}
	}
	t.Fatalf("challenge has no solution up to %d", c.MaxNumber)
	return ""
}

func altchaPayload(alg, challenge string, n int64, salt, sig string) string {
	b, _ := json.Marshal(map[string]any{"algorithm": alg, "challenge": challenge, "number": n, "salt": salt, "signature": sig})
	return base64.StdEncoding.EncodeToString(b)
}

func wantAltchaError(t *testing.T, err error, what string) {
	t.Helper()
	var ve *ValidationError
	if err == nil || !isField(err, "altcha") || !strings.Contains(err.Error(), what) {
		t.Fatalf("got %v (%T %v), want a validation error on altcha saying %q", err, err, ve, what)
	}
}

func TestPOW_AcceptedReplayedExpiredForgedMissing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.svc.NewChallenge()
	if err != nil {
		t.Fatal(err)
	}
	if c.Algorithm != "SHA-256" || c.MaxNumber != POWMaxNumber || len(c.Challenge) != 64 || len(c.Signature) != 64 ||
		!strings.Contains(c.Salt, "?expires="+strconv.FormatInt(f.clock.Now().Add(POWLifetime).Unix(), 10)) {
		t.Fatalf("challenge %+v", c)
	}
	sol := solveALTCHA(t, c)
	if err := f.svc.VerifyPOW(ctx, sol); err != nil {
		t.Fatalf("a correct solution: %v", err)
	}
	wantAltchaError(t, f.svc.VerifyPOW(ctx, sol), "already used")

	// Expired: solved in time, sent too late.
	c2, _ := f.svc.NewChallenge()
	sol2 := solveALTCHA(t, c2)
	f.clock.Add(POWLifetime + time.Second)
	wantAltchaError(t, f.svc.VerifyPOW(ctx, sol2), "expired")

	// Forged: a challenge the client made itself (no valid signature), a
	// later expiry written into a real salt, a wrong number, another
	// algorithm, garbage, nothing.
	c3, _ := f.svc.NewChallenge()
	var self Challenge = c3
	self.Salt = "00ff?expires=" + strconv.FormatInt(f.clock.Now().Add(time.Hour).Unix(), 10)
	sum := sha256.Sum256([]byte(self.Salt + "7"))
	self.Challenge = hex.EncodeToString(sum[:])
	wantAltchaError(t, f.svc.VerifyPOW(ctx, altchaPayload("SHA-256", self.Challenge, 7, self.Salt, c3.Signature)), "not a valid solution")
	var good POWSolution
	raw, _ := base64.StdEncoding.DecodeString(solveALTCHA(t, c3))
	_ = json.Unmarshal(raw, &good)
	later := strings.Replace(good.Salt, "?expires=", "?expires=9", 1)
	wantAltchaError(t, f.svc.VerifyPOW(ctx, altchaPayload("SHA-256", good.Challenge, good.Number, later, good.Signature)), "not a valid solution")
	wantAltchaError(t, f.svc.VerifyPOW(ctx, altchaPayload("SHA-256", good.Challenge, good.Number+1, good.Salt, good.Signature)), "not a valid solution")
	wantAltchaError(t, f.svc.VerifyPOW(ctx, altchaPayload("SHA-1", good.Challenge, good.Number, good.Salt, good.Signature)), "algorithm")
	wantAltchaError(t, f.svc.VerifyPOW(ctx, "not base64!"), "base64")
	wantAltchaError(t, f.svc.VerifyPOW(ctx, ""), "missing")
	wantAltchaError(t, f.svc.VerifyPOW(ctx, strings.Repeat("A", 5000)), "not a proof-of-work")
	// The genuine one still works after all that.
	if err := f.svc.VerifyPOW(ctx, altchaPayload("SHA-256", good.Challenge, good.Number, good.Salt, good.Signature)); err != nil {
		t.Fatal(err)
	}
}

// TestPOW_ALTCHAVector checks the server against a challenge computed by
// hand as the ALTCHA specification describes it: challenge = hex
// SHA-256(salt + number), signature = hex HMAC-SHA256(key, challenge).
func TestPOW_ALTCHAVector(t *testing.T) {
	f := newFixture(t)
	salt := "3b8f1c0e9d7a?expires=" + strconv.FormatInt(f.clock.Now().Add(time.Minute).Unix(), 10)
	sum := sha256.Sum256([]byte(salt + "12345"))
	challenge := hex.EncodeToString(sum[:])
	m := hmac.New(sha256.New, f.svc.powKey)
	m.Write([]byte(challenge))
	sig := hex.EncodeToString(m.Sum(nil))
	if err := f.svc.VerifyPOW(context.Background(), altchaPayload("SHA-256", challenge, 12345, salt, sig)); err != nil {
		t.Fatalf("a challenge made as ALTCHA describes: %v", err)
	}
}

// TestPOW_FormScriptSolves runs the form's own solver (static/altcha.js)
// under Node on a challenge of the server, and the server takes its answer.
func TestPOW_FormScriptSolves(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	f := newFixture(t)
	c, err := f.svc.NewChallenge()
	if err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs("../templates/static/altcha.js")
	cj, _ := json.Marshal(c)
	dir := t.TempDir()
	runner := filepath.Join(dir, "run.js")
	os.WriteFile(runner, []byte(`const m = require(process.argv[2]);
const t0 = Date.now();
m.solve(JSON.parse(process.argv[3]), v => { console.log(v); console.error("ms", Date.now() - t0); });`), 0o600)
	out, err := exec.Command(node, runner, script, string(cj)).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	if err := f.svc.VerifyPOW(context.Background(), strings.TrimSpace(string(out))); err != nil {
		t.Fatalf("the script's solution: %v (%q)", err, out)
	}
}

func TestSubscribe_POWHoneypotAndDomains(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc, err := New(f.db, f.svc.releases, Options{Secret: testSecret, BaseURL: "https://press.example.org", Now: f.clock.Now,
		SignupPOW: true, DomainsAllow: []string{"*.gov", "example.org"}, DomainsBlock: []string{"blocked.example.gov"}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := svc.NewChallenge()
	if err := svc.Subscribe(ctx, SubscribeRequest{Email: "ana@example.org"}); !isField(err, "altcha") {
		t.Fatalf("no solution: %v", err)
	}
	if err := svc.Subscribe(ctx, SubscribeRequest{Email: "ana@example.org", POW: solveALTCHA(t, c)}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.byEmail(t, "ana@example.org"); !ok {
		t.Fatal("not subscribed")
	}
	// The honeypot: answered as usual, nothing happens.
	c, _ = svc.NewChallenge()
	if err := svc.Subscribe(ctx, SubscribeRequest{Email: "bot@example.org", POW: solveALTCHA(t, c), Honeypot: "http://spam"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.byEmail(t, "bot@example.org"); ok {
		t.Fatal("a filled-in honeypot subscribed")
	}
	// Domains: the same refusal for a known and a new address.
	for _, e := range []string{"ana@other.org", "x@example.org.evil", "x@blocked.example.gov"} {
		err := svc.Subscribe(ctx, SubscribeRequest{Email: e})
		if !isField(err, "email") || !strings.Contains(err.Error(), "cannot subscribe here") {
			t.Errorf("%s: %v", e, err)
		}
	}
	if _, err := f.svc.Add(ctx, AddRequest{Email: "known@other.org", Confirmed: true}); err != nil {
		t.Fatal(err)
	}
	e1 := svc.Subscribe(ctx, SubscribeRequest{Email: "known@other.org"})
	e2 := svc.Subscribe(ctx, SubscribeRequest{Email: "unknown@other.org"})
	if e1 == nil || e2 == nil || e1.Error() != e2.Error() {
		t.Fatalf("known and new addresses answered differently: %v / %v", e1, e2)
	}
	c, _ = svc.NewChallenge()
	if err := svc.Subscribe(ctx, SubscribeRequest{Email: "a@agency.gov", POW: solveALTCHA(t, c)}); err != nil {
		t.Fatalf("an allowed *.gov address: %v", err)
	}
}

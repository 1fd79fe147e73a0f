package webhooks

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The test vectors of the Standard Webhooks reference libraries
// (standard-webhooks/standard-webhooks, libraries/go/webhook_test.go).
const (
	vectorSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorMsgID   = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorPayload = `{"test": 2432232314}`
	vectorTS      = 1614265330
	vectorSig     = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSign_StandardWebhooksVector(t *testing.T) {
	got, err := Sign(vectorSecret, vectorMsgID, time.Unix(vectorTS, 0), []byte(vectorPayload))
	if err != nil || got != vectorSig {
		t.Fatalf("Sign = %q, %v; want %q", got, err, vectorSig)
	}
	// The libraries accept the secret without its prefix as well.
	if got, _ := Sign(strings.TrimPrefix(vectorSecret, "whsec_"), vectorMsgID, time.Unix(vectorTS, 0), []byte(vectorPayload)); got != vectorSig {
		t.Fatalf("unprefixed secret: %q", got)
	}
}

func header(id string, ts int64, sig string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, sig)
	return h
}

// TestVerify follows the reference libraries' cases.
func TestVerify(t *testing.T) {
	now := time.Unix(vectorTS, 0)
	body := []byte(vectorPayload)
	tests := []struct {
		name string
		h    func() http.Header
		now  time.Time
		want error
	}{
		{"valid signature is valid", func() http.Header { return header(vectorMsgID, vectorTS, vectorSig) }, now, nil},
		{"missing id", func() http.Header { h := header(vectorMsgID, vectorTS, vectorSig); h.Del(HeaderID); return h }, now, ErrMissing},
		{"missing timestamp", func() http.Header { h := header(vectorMsgID, vectorTS, vectorSig); h.Del(HeaderTimestamp); return h }, now, ErrMissing},
		{"missing signature", func() http.Header { h := header(vectorMsgID, vectorTS, vectorSig); h.Del(HeaderSignature); return h }, now, ErrMissing},
		{"invalid signature", func() http.Header {
			return header(vectorMsgID, vectorTS, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=")
		}, now, ErrBadSignature},
		{"old timestamp", func() http.Header { return header(vectorMsgID, vectorTS, vectorSig) }, now.Add(Tolerance), ErrBadTimestamp},
		{"new timestamp", func() http.Header { return header(vectorMsgID, vectorTS, vectorSig) }, now.Add(-Tolerance - time.Second), ErrBadTimestamp},
		{"valid multi sig is valid", func() http.Header {
			return header(vectorMsgID, vectorTS, "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= "+
				vectorSig+" v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=")
		}, now, nil},
		{"another id", func() http.Header { return header("msg_other", vectorTS, vectorSig) }, now, ErrBadSignature},
	}
	for _, tt := range tests {
		if err := Verify(vectorSecret, tt.h(), body, tt.now); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if err := Verify(vectorSecret, header(vectorMsgID, vectorTS, vectorSig), []byte(`{"test": 2432232315}`), now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed body: %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secrets %q %q", a, b)
	}
	key, err := secretKey(a)
	if err != nil || len(key) != 32 {
		t.Fatalf("key %d bytes, %v", len(key), err)
	}
}

package subscribers

import (
	"fmt"
	"io"
)

// Size caps of an import (SPEC 11: memory stays flat whatever the file).
// encoding/csv keeps a whole record in memory, so a record is cut off at
// MaxCSVRow bytes before the CSV reader sees more of it; a field longer
// than MaxCSVField (far beyond any address or list of slugs) makes its row
// an error.
const (
	MaxCSVRow   = 64 << 10
	MaxCSVField = 8 << 10
)

// ErrRowTooLong is the cause of a ReadError for a record over MaxCSVRow.
var ErrRowTooLong = fmt.Errorf("a row is longer than %d KiB", MaxCSVRow>>10)

// ReadError means the import stopped because its input could not be read
// on: the upload was cut short, the connection dropped, or a row was over
// MaxCSVRow. Rows before Line were imported (Result counts them) and stay
// imported; nothing from Line on was. Importing the same file again is
// safe: rows already imported are skipped as unchanged.
type ReadError struct {
	Line   int          // the line where reading stopped (1 is the header)
	Result ImportResult // what was imported before it
	Err    error
}

func (e *ReadError) Error() string {
	return fmt.Sprintf("subscribers: import stopped at line %d (%v); the %d rows before it were imported", e.Line, e.Err, e.Result.Rows())
}

func (e *ReadError) Unwrap() error { return e.Err }

// rowLimiter passes a CSV stream through, tracking quotes so that it knows
// where records end (a newline outside quotes), and fails with
// ErrRowTooLong as soon as one record grows past max bytes, so that the CSV
// reader never holds more than that. It also counts lines.
type rowLimiter struct {
	r       io.Reader
	max     int
	inQuote bool
	rowLen  int // bytes of the current record so far
	line    int // lines fully read so far
	start   int // the line where the current record began (0-based count of lines before it)
	err     error
}

func newRowLimiter(r io.Reader, max int) *rowLimiter { return &rowLimiter{r: r, max: max} }

func (l *rowLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for i := 0; i < n; i++ {
		c := p[i]
		l.rowLen++
		switch {
		case c == '"':
			l.inQuote = !l.inQuote // "" inside quotes toggles twice
		case c == '\n':
			l.line++
			if !l.inQuote {
				l.rowLen, l.start = 0, l.line
			}
		}
		if l.rowLen > l.max {
			l.err = ErrRowTooLong
			return i, l.err
		}
	}
	return n, err
}

// stoppedAt is the line to report when reading stopped: the first line of
// the record being read.
func (l *rowLimiter) stoppedAt() int { return l.start + 1 }

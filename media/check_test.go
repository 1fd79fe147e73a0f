package media

import (
	"bytes"
	"compress/zlib"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"strings"
	"testing"

	"herald/releases"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.NRGBA{R: 200, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bombPNG declares width × height pixels in a header of a few bytes (its
// IHDR chunk), with no pixel data at all.
func bombPNG(t *testing.T, w, h uint32) []byte {
	t.Helper()
	b := pngOf(t, 1, 1)
	// IHDR data starts at byte 16: width, height (big-endian); fix the CRC.
	ihdr := b[12:29] // "IHDR" + 13 bytes
	ihdr[4], ihdr[5], ihdr[6], ihdr[7] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	ihdr[8], ihdr[9], ihdr[10], ihdr[11] = byte(h>>24), byte(h>>16), byte(h>>8), byte(h)
	crc := crc32IEEE(ihdr)
	b[29], b[30], b[31], b[32] = byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc)
	return b
}

func TestWebPTestdataIsReproducible(t *testing.T) {
	got := uniformWebP(2400, 1600, 255, 200, 30, 40)
	want, err := os.ReadFile("testdata/uniform-2400x1600.webp")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("testdata/uniform-2400x1600.webp differs from uniformWebP (%v): regenerate it", err)
	}
}

func TestDecodeImage_RefusesBombsBeforeDecoding(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"png 50000x50000", bombPNG(t, 50000, 50000)},
		{"png 8000x8000 (64 MP)", bombPNG(t, 8000, 8000)},
		{"webp 16000x16000", uniformWebP(16000, 16000, 255, 1, 2, 3)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeImage(tt.data, sniff(tt.data))
			var ve *releases.ValidationError
			if !errors.As(err, &ve) || ve.Field != "file" || !strings.Contains(ve.Msg, "megapixels") {
				t.Fatalf("err = %v, want a refusal naming the pixels", err)
			}
		})
	}
}

func TestDecodeImage_Truncated(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	full := buf.Bytes()
	if _, err := decodeImage(full, TypeJPEG); err != nil {
		t.Fatalf("whole JPEG refused: %v", err)
	}
	for _, cut := range []int{len(full) - 2, len(full) / 2, 200} {
		if _, err := decodeImage(full[:cut], TypeJPEG); err == nil {
			t.Errorf("JPEG cut at %d of %d bytes accepted", cut, len(full))
		}
	}
	p := pngOf(t, 300, 200)
	if _, err := decodeImage(p[:len(p)-12], TypePNG); err == nil {
		t.Error("PNG without IEND accepted")
	}
}

func TestSniff(t *testing.T) {
	for _, tt := range []struct {
		data []byte
		want string
	}{
		{[]byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"), ""},
		{[]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"), ""},
		{[]byte("<svg xmlns='http://www.w3.org/2000/svg'></svg>"), ""},
		{[]byte("%PDF-1.7\n"), TypePDF},
		{[]byte("GIF89a\x01\x00"), TypeGIF},
		{uniformWebP(2, 2, 255, 0, 0, 0), TypeWebP},
	} {
		if got := sniff(tt.data); got != tt.want {
			t.Errorf("sniff(%q) = %q, want %q", tt.data[:8], got, tt.want)
		}
	}
}

func deflate(s string) string {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.String()
}

func TestCheckPDF(t *testing.T) {
	clean := "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
	if err := checkPDF([]byte(clean)); err != nil {
		t.Fatalf("clean PDF refused: %v", err)
	}
	for name, doc := range map[string]string{
		"javascript":        "%PDF-1.4\n1 0 obj << /Type /Catalog /Names << /JavaScript 3 0 R >> >> endobj\n%%EOF\n",
		"open action js":    "%PDF-1.4\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF\n",
		"escaped name":      "%PDF-1.4\n1 0 obj << /OpenAction << /S /Java#53cript /J#53 (x) >> >> endobj\n%%EOF\n",
		"launch":            "%PDF-1.4\n1 0 obj << /OpenAction << /S /Launch /F (cmd.exe) >> >> endobj\n%%EOF\n",
		"in object stream":  "%PDF-1.5\n5 0 obj << /Type /ObjStm /Filter /FlateDecode >>\nstream\n" + deflate("<< /S /JavaScript /JS (x) >>") + "\nendstream\nendobj\n%%EOF\n",
		"truncated, no EOF": "%PDF-1.4\n1 0 obj << /Type /Catalog",
	} {
		if err := checkPDF([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCleanText(t *testing.T) {
	if got, err := cleanText("alt", "  <script>alert(1)</script>\r\nline ", MaxAlt); err != nil || got != "<script>alert(1)</script> line" {
		t.Fatalf("got %q, %v: markup is text, lines are joined", got, err)
	}
	for _, bad := range []string{"\xff\xfe", "a\x00b", "bell\x07", strings.Repeat("é", MaxAlt+1)} {
		if _, err := cleanText("alt", bad, MaxAlt); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if got := cleanName(`C:\Users\ana\"Report"; x.exe.pdf`, "pdf"); got != "Report x.exe.pdf" {
		t.Errorf("cleanName = %q", got)
	}
	if got := cleanName("../../etc/passwd", "png"); got != "passwd.png" {
		t.Errorf("cleanName = %q", got)
	}
}

func TestDisplayCopy(t *testing.T) {
	for _, tt := range []struct {
		typ, want string
		data      []byte
	}{
		{TypePNG, TypePNG, pngOf(t, 2000, 1000)},
		{TypeWebP, TypeJPEG, uniformWebP(6000, 4000, 255, 10, 20, 30)},
	} {
		d, err := decodeImage(tt.data, tt.typ)
		if err != nil {
			t.Fatal(err)
		}
		b, typ, w, h, ok, err := displayCopy(d, tt.typ)
		if err != nil || !ok || typ != tt.want || w != DisplayWidth || h != DisplayWidth*d.height/d.width {
			t.Fatalf("%s: %s %dx%d %v %v", tt.typ, typ, w, h, ok, err)
		}
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != w || cfg.Height != h {
			t.Fatalf("%s: the copy reads as %+v, %v", tt.typ, cfg, err)
		}
	}
	d, _ := decodeImage(pngOf(t, 800, 600), TypePNG)
	if _, _, _, _, ok, _ := displayCopy(d, TypePNG); ok {
		t.Fatal("an image 800 px wide got a copy")
	}
}

package media

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/draw"
	"golang.org/x/image/webp"
)

// Limits of an upload (SPEC 10).
const (
	MaxImageBytes = 10 << 20 // 10 MB
	MaxPDFBytes   = 20 << 20 // 20 MB
	// MaxPixels bounds an image's area before its pixels are decoded: a
	// small file may declare a huge image (a decompression bomb) that
	// would take gigabytes to decode. 40 MP is more than any camera's
	// photo a press office sends.
	MaxPixels = 40_000_000
	// MaxSide bounds either side, whatever the area.
	MaxSide = 30_000
	// DisplayWidth is the widest copy that pages, feeds and mail show.
	DisplayWidth = 1200
)

// Media types herald takes, judged by content.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeGIF  = "image/gif"
	TypeWebP = "image/webp"
	TypePDF  = "application/pdf"
)

// extensions are the served file names' endings.
var extensions = map[string]string{TypeJPEG: "jpg", TypePNG: "png", TypeGIF: "gif", TypeWebP: "webp", TypePDF: "pdf"}

// sniff names the type of data by its first bytes (magic numbers), or "".
// The name a file was uploaded with plays no part: a renamed executable
// has none of these signatures.
func sniff(data []byte) string {
	switch {
	case len(data) >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF:
		return TypeJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return TypeGIF
	case len(data) >= 16 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WEBP" && string(data[12:15]) == "VP8":
		return TypeWebP
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return TypePDF
	}
	return ""
}

// decoded is an image that passed the checks.
type decoded struct {
	img           image.Image
	width, height int
}

// decodeImage checks an image's declared size before decoding its pixels
// (DecodeConfig reads only the header), then decodes it whole: a truncated
// or damaged file fails here.
func decodeImage(data []byte, typ string) (decoded, error) {
	var cfgFn func(io.Reader) (image.Config, error)
	var decFn func(io.Reader) (image.Image, error)
	switch typ {
	case TypeJPEG:
		cfgFn, decFn = jpeg.DecodeConfig, jpeg.Decode
	case TypePNG:
		cfgFn, decFn = png.DecodeConfig, png.Decode
	case TypeGIF:
		cfgFn, decFn = gif.DecodeConfig, gif.Decode // the first frame
	case TypeWebP:
		cfgFn, decFn = webp.DecodeConfig, webp.Decode
	default:
		return decoded{}, fmt.Errorf("media: %s is not an image type", typ)
	}
	cfg, err := cfgFn(bytes.NewReader(data))
	if err != nil {
		return decoded{}, invalid("file", "the image cannot be read: it is damaged or not really a %s", extensions[typ])
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 {
		return decoded{}, invalid("file", "the image declares no pixels")
	}
	if w > MaxSide || h > MaxSide || int64(w)*int64(h) > MaxPixels {
		return decoded{}, invalid("file", "the image is %d × %d pixels: at most %d megapixels and %d pixels a side",
			w, h, MaxPixels/1_000_000, MaxSide)
	}
	img, err := decFn(bytes.NewReader(data))
	if err != nil {
		return decoded{}, invalid("file", "the image is truncated or damaged (%s)", shortErr(err))
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		return decoded{}, invalid("file", "the image's pixels do not match its declared size")
	}
	return decoded{img: img, width: w, height: h}, nil
}

func shortErr(err error) string {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "it ends too early"
	}
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// displayCopy returns the copy of an image at most DisplayWidth wide, its
// type and size; ok is false when the image is narrow enough to be shown
// as it is. Photos (JPEG, and WebP without transparency) become JPEG,
// others (PNG, GIF, transparent WebP) PNG; an animated GIF's copy is its
// first frame.
func displayCopy(d decoded, typ string) (data []byte, outType string, w, h int, ok bool, err error) {
	if d.width <= DisplayWidth {
		return nil, "", 0, 0, false, nil
	}
	w = DisplayWidth
	h = max(1, int((int64(d.height)*DisplayWidth+int64(d.width)/2)/int64(d.width)))
	src := d.img
	// Catmull-Rom looks at every source pixel under its kernel: from a very
	// large image, halve quickly first (bilinear), then finish with it.
	if d.width > 4*DisplayWidth {
		mw, mh := 2*DisplayWidth, max(1, h*2)
		mid := image.NewRGBA(image.Rect(0, 0, mw, mh))
		draw.ApproxBiLinear.Scale(mid, mid.Bounds(), src, src.Bounds(), draw.Src, nil)
		src = mid
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	outType = TypePNG
	if typ == TypeJPEG || (typ == TypeWebP && opaque(d.img)) {
		outType = TypeJPEG
		err = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85})
	} else {
		err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, dst)
	}
	if err != nil {
		return nil, "", 0, 0, false, fmt.Errorf("media: encode the display copy: %w", err)
	}
	return buf.Bytes(), outType, w, h, true, nil
}

func opaque(img image.Image) bool {
	o, ok := img.(interface{ Opaque() bool })
	return !ok || o.Opaque()
}

// pdfUnsafeNames are PDF names that make a document act rather than be
// read: scripts (/JavaScript, /JS, also reached from /OpenAction and /AA)
// and launching programs (/Launch).
var pdfUnsafeNames = map[string]bool{"JavaScript": true, "JS": true, "Launch": true}

// maxInflated bounds what checkPDF decompresses of a PDF's streams, in
// total (a zip bomb in a stream).
const maxInflated = 64 << 20

// checkPDF refuses a PDF that is cut short (no %%EOF near its end) or that
// names JavaScript or a launch action, in its text or in any compressed
// (Flate) stream, where object streams can hide them. Names are compared
// after decoding #xx escapes (/J#53 is /JS).
func checkPDF(data []byte) error {
	tail := data[max(0, len(data)-2048):]
	if !bytes.Contains(tail, []byte("%%EOF")) {
		return invalid("file", "the PDF is truncated: it has no end-of-file marker")
	}
	if n := unsafePDFName(data); n != "" {
		return invalid("file", "the PDF contains /%s: PDFs with scripts or launch actions are refused", n)
	}
	budget := maxInflated
	rest := data
	for {
		i := bytes.Index(rest, []byte("stream"))
		if i < 0 {
			return nil
		}
		rest = rest[i+len("stream"):]
		body := bytes.TrimLeft(rest, "\r\n")
		if len(body) == len(rest) || len(body) < 2 || body[0]&0x0F != 8 || (int(body[0])<<8|int(body[1]))%31 != 0 {
			continue // "endstream", or not a zlib stream
		}
		zr, err := zlib.NewReader(bytes.NewReader(body))
		if err != nil {
			continue
		}
		out, _ := io.ReadAll(io.LimitReader(zr, int64(budget)+1))
		zr.Close()
		if len(out) > budget {
			return invalid("file", "the PDF's compressed streams expand to more than %d MB", maxInflated>>20)
		}
		budget -= len(out)
		if n := unsafePDFName(out); n != "" {
			return invalid("file", "the PDF contains /%s in a compressed stream: PDFs with scripts or launch actions are refused", n)
		}
	}
}

// unsafePDFName returns the first unsafe name in b, or "".
func unsafePDFName(b []byte) string {
	for i := 0; i < len(b); i++ {
		if b[i] != '/' {
			continue
		}
		j := i + 1
		var name []byte
		for j < len(b) && !pdfDelimiter(b[j]) {
			c := b[j]
			if c == '#' && j+2 < len(b) && isHex(b[j+1]) && isHex(b[j+2]) {
				c = unhex(b[j+1])<<4 | unhex(b[j+2])
				j += 2
			}
			name = append(name, c)
			j++
			if len(name) > 16 {
				break
			}
		}
		if pdfUnsafeNames[string(name)] {
			return string(name)
		}
		i = j - 1
	}
	return ""
}

func pdfDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '\f', 0, '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

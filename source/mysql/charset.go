package mysql

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// normCharset returns the canonical name of a MySQL character set
// ("utf8" is "utf8mb3").
func normCharset(cs string) string {
	cs = strings.ToLower(cs)
	if cs == "utf8" {
		return "utf8mb3"
	}
	return cs
}

// charsetOfCollation returns the character set of a MySQL collation: the
// name up to the first '_' ("latin1_swedish_ci" → "latin1"), "binary" for
// binary.
func charsetOfCollation(coll string) string {
	cs, _, _ := strings.Cut(strings.ToLower(coll), "_")
	return normCharset(cs)
}

// textDecoder converts the bytes of a text column in one MySQL character
// set to UTF-8. It is not safe for concurrent use.
type textDecoder struct {
	charset string
	utf8    bool              // utf8mb3, utf8mb4, ascii: the bytes are the text
	table   *[256]rune        // single-byte character sets
	ascii   bool              // table maps 0x00–0x7F to themselves
	dec     *encoding.Decoder // multi-byte character sets
}

// singleByte maps MySQL's single-byte character sets to their code pages.
var singleByte = map[string]*charmap.Charmap{
	"latin1":   charmap.Windows1252, // MySQL's latin1 is cp1252, see newTextDecoder
	"latin2":   charmap.ISO8859_2,
	"latin5":   charmap.ISO8859_9,
	"latin7":   charmap.ISO8859_13,
	"greek":    charmap.ISO8859_7,
	"hebrew":   charmap.ISO8859_8,
	"cp1250":   charmap.Windows1250,
	"cp1251":   charmap.Windows1251,
	"cp1256":   charmap.Windows1256,
	"cp1257":   charmap.Windows1257,
	"cp850":    charmap.CodePage850,
	"cp852":    charmap.CodePage852,
	"cp866":    charmap.CodePage866,
	"koi8r":    charmap.KOI8R,
	"koi8u":    charmap.KOI8U,
	"macroman": charmap.Macintosh,
	"tis620":   charmap.Windows874,
}

// multiByte maps MySQL's multi-byte character sets other than UTF-8 to
// their encodings.
var multiByte = map[string]encoding.Encoding{
	"sjis":    japanese.ShiftJIS,
	"cp932":   japanese.ShiftJIS, // the WHATWG decoder is Windows-31J
	"ujis":    japanese.EUCJP,
	"eucjpms": japanese.EUCJP,
	"euckr":   korean.EUCKR,
	"gbk":     simplifiedchinese.GBK,
	"gb2312":  simplifiedchinese.GBK, // GBK is a superset
	"gb18030": simplifiedchinese.GB18030,
	"big5":    traditionalchinese.Big5,
	"ucs2":    unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM),
	"utf16":   unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM),
	"utf16le": unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM),
	"utf32":   utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM),
}

// newTextDecoder returns the decoder of a MySQL character set, or an error
// for one the source cannot convert.
func newTextDecoder(charset string) (*textDecoder, error) {
	cs := normCharset(charset)
	d := &textDecoder{charset: cs}
	switch cs {
	case "utf8mb4", "utf8mb3", "ascii":
		d.utf8 = true
		return d, nil
	}
	if m := singleByte[cs]; m != nil {
		var t [256]rune
		for i := range t {
			t[i] = m.DecodeByte(byte(i))
		}
		if cs == "latin1" {
			// MySQL maps the five bytes cp1252 leaves undefined to the C1
			// controls of the same value, so every byte round-trips.
			for _, b := range []byte{0x81, 0x8D, 0x8F, 0x90, 0x9D} {
				t[b] = rune(b)
			}
		}
		d.table = &t
		d.ascii = true
		for i := 0; i < utf8.RuneSelf; i++ {
			d.ascii = d.ascii && t[i] == rune(i)
		}
		return d, nil
	}
	if e := multiByte[cs]; e != nil {
		d.dec = e.NewDecoder()
		return d, nil
	}
	return nil, fmt.Errorf("character set %q is not supported", charset)
}

// decode returns b as UTF-8 text.
func (d *textDecoder) decode(b []byte) (string, error) { return d.decodeString(b, string(b)) }

// decodeString is decode with s holding the same bytes as b: text that
// needs no conversion is s itself.
func (d *textDecoder) decodeString(b []byte, s string) (string, error) {
	switch {
	case d.utf8:
		return s, nil
	case d.table != nil:
		ascii := d.ascii
		for _, c := range b {
			if c >= utf8.RuneSelf {
				ascii = false
				break
			}
		}
		if ascii {
			return s, nil
		}
		out := make([]byte, 0, len(b)+len(b)/2)
		for _, c := range b {
			out = utf8.AppendRune(out, d.table[c])
		}
		return string(out), nil
	}
	out, err := d.dec.Bytes(b)
	if err != nil {
		return "", fmt.Errorf("convert from %s: %w", d.charset, err)
	}
	return string(out), nil
}

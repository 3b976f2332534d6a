package booking

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// RRN is a parsed resident registration number (주민등록번호) or foreign
// resident registration number.
//
// It never shows its digits: every fmt verb, slog, encoding/json and
// encoding.TextMarshaler give the masked form "680101-1******". The digits
// are kept behind a pointer so that even reflection-based printing of a
// struct holding an RRN in an unexported field shows an address, not the
// number. Digits is the one way to get them, for hashing (PersonKey).
type RRN struct {
	digits        *[13]byte
	BirthDate     Date
	Sex           string // "M" or "F"
	Foreign       bool   // foreign resident registration number (G digit 5-8)
	ChecksumValid bool   // the check digit matches (not required: see ParseRRN)
}

const maxRRNInput = 64 // bytes; anything longer is not something a person typed

// ParseRRN parses a resident registration number as people type or paste
// it: "YYMMDD-GNNNNNC" or "YYMMDDGNNNNNC", with spaces anywhere, full-width
// digits, and any of the usual dashes (hyphen, en/em dash, minus, full-width
// hyphen) once, between the sixth and seventh digit.
//
// It checks the format, the sex/century digit G (9/0 = 1800s, 1/2 = 1900s,
// 3/4 = 2000s, odd = male; foreign residents 5/6 = 1900s, 7/8 = 2000s) and
// that the birth date exists. It computes ChecksumValid but does not reject
// a wrong check digit: numbers issued since October 2020 have no reliable
// check digit, and the identity provider is the authority. Use Strict to
// require it.
func ParseRRN(s string) (RRN, error) {
	// Plain words, the same in both languages: how many digits, where the
	// dash goes; no YYMMDD-GNNNNNC.
	formatErr := func(ko, en string) (RRN, error) {
		return RRN{}, inputErr(ErrRRNFormat, "rrn", ko, en)
	}
	if len(s) > maxRRNInput {
		return formatErr("주민등록번호가 너무 깁니다. 앞 6자리와 뒤 7자리, 모두 13자리를 입력해 주세요.",
			"That is too long: a resident registration number has 13 digits, 6 and then 7.")
	}
	var d [13]byte
	n, dashes := 0, 0
	for _, r := range s {
		c, isDigit := digitOf(r)
		switch {
		case isDigit:
			if n < len(d) {
				d[n] = c
			}
			n++
		case isDashRune(r):
			dashes++
			if dashes > 1 || n != 6 {
				return formatErr("주민등록번호의 '-'는 앞 6자리(생년월일) 다음에만 씁니다.",
					"The dash goes only after the first 6 digits (the date of birth).")
			}
		case isBlankRune(r):
		default:
			return formatErr("주민등록번호는 숫자로만 입력해 주세요.", "Please use only digits in the resident registration number.")
		}
	}
	if n != 13 {
		return formatErr(fmt.Sprintf("주민등록번호는 13자리입니다. 지금 %d자리를 입력했습니다.", n),
			fmt.Sprintf("A resident registration number has 13 digits; you entered %d.", n))
	}
	return rrnFromDigits(d)
}

func rrnFromDigits(d [13]byte) (RRN, error) {
	num := func(i int) int { return int(d[i]-'0')*10 + int(d[i+1]-'0') }
	var century int
	var foreign bool
	switch d[6] {
	case '9', '0':
		century = 1800
	case '1', '2':
		century = 1900
	case '3', '4':
		century = 2000
	case '5', '6':
		century, foreign = 1900, true
	case '7', '8':
		century, foreign = 2000, true
	default:
		// Unreachable with decimal digits today: every digit 0-9 has a
		// meaning. Kept so a change of scheme fails closed.
		return RRN{}, inputErr(ErrRRNSexDigit, "rrn",
			"주민등록번호 뒷자리 첫 숫자가 올바르지 않습니다.",
			"The first digit after the dash is not a valid sex/century digit.")
	}
	birth, ok := NewDate(century+num(0), time.Month(num(2)), num(4))
	if !ok {
		return RRN{}, inputErr(ErrRRNDate, "rrn",
			"주민등록번호 앞자리의 생년월일이 달력에 없는 날짜입니다.",
			"The birth date in the first six digits does not exist.")
	}
	sex := "F"
	if (d[6]-'0')%2 == 1 {
		sex = "M"
	}
	return RRN{
		digits:        &d,
		BirthDate:     birth,
		Sex:           sex,
		Foreign:       foreign,
		ChecksumValid: rrnCheckDigit(d) == d[12],
	}, nil
}

// rrnCheckDigit computes C = (11 - sum mod 11) mod 10 with weights
// 2,3,4,5,6,7,8,9,2,3,4,5 over the first 12 digits (as an ASCII digit).
// The same formula is applied to foreign residents' numbers; like any check
// digit here it is informational only.
func rrnCheckDigit(d [13]byte) byte {
	weights := [12]int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5}
	sum := 0
	for i, w := range weights {
		sum += int(d[i]-'0') * w
	}
	return byte('0' + (11-sum%11)%10)
}

// FormatRRN returns the resident registration number of a Korean national
// born on birth (1900-2099) with the given sex and 5-digit serial, with its
// check digit, written "YYMMDD-GNNNNNC": test data and simulated people.
func FormatRRN(birth Date, male bool, serial int) string {
	g := byte('1')
	if birth.Year >= 2000 {
		g = '3'
	}
	if !male {
		g++
	}
	var d [13]byte
	two := func(i, v int) { d[i], d[i+1] = byte('0'+v/10%10), byte('0'+v%10) }
	two(0, birth.Year%100)
	two(2, int(birth.Month))
	two(4, birth.Day)
	d[6] = g
	serial %= 100000
	for i := 11; i >= 7; i-- {
		d[i] = byte('0' + serial%10)
		serial /= 10
	}
	d[12] = rrnCheckDigit(d)
	return string(d[:6]) + "-" + string(d[6:])
}

// RRNDigits returns the digits of s, a registration number or a part of
// one as typed in a form's box (full-width digits made ASCII), and whether
// s holds nothing but digits and the dashes and blanks ParseRRN accepts
// (where the dashes go is ParseRRN's to check), within ParseRRN's length.
func RRNDigits(s string) (string, bool) {
	if len(s) > maxRRNInput {
		return "", false
	}
	b := make([]byte, 0, 13)
	for _, r := range s {
		c, isDigit := digitOf(r)
		switch {
		case isDigit:
			b = append(b, c)
		case isDashRune(r) || isBlankRune(r):
		default:
			return "", false
		}
	}
	return string(b), true
}

// digitOf is r as an ASCII digit, for r an ASCII or a full-width digit
// (what a Korean keyboard in full-width mode types).
func digitOf(r rune) (byte, bool) {
	switch {
	case '0' <= r && r <= '9':
		return byte(r), true
	case '０' <= r && r <= '９':
		return byte('0' + (r - '０')), true
	}
	return 0, false
}

func isDashRune(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\uFE63', '\uFF0D':
		return true
	}
	return false
}

func isBlankRune(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200B' || r == '\uFEFF' // zero-width space, BOM
}

// Strict returns an error if the check digit does not match (or r is the
// zero RRN). Only for numbers known to be issued before October 2020.
func (r RRN) Strict() error {
	if r.digits == nil {
		return inputErr(ErrRRNFormat, "rrn",
			"주민등록번호를 입력해 주세요.", "Enter the resident registration number.")
	}
	if !r.ChecksumValid {
		return inputErr(ErrRRNChecksum, "rrn",
			"주민등록번호가 올바르지 않습니다. 다시 확인해 주세요.",
			"The resident registration number is not valid (check digit). Please check it.")
	}
	return nil
}

// IsZero reports whether r is the zero RRN (not parsed).
func (r RRN) IsZero() bool { return r.digits == nil }

// Equal reports whether two RRNs are the same number.
func (r RRN) Equal(o RRN) bool {
	if r.digits == nil || o.digits == nil {
		return r.digits == nil && o.digits == nil
	}
	return *r.digits == *o.digits
}

// Digits returns the 13 digits in the clear ("" for the zero RRN). Use it
// only to derive a keyed hash (PersonKey) or to send the number to the
// identity provider; never log, store or display it.
func (r RRN) Digits() string {
	if r.digits == nil {
		return ""
	}
	return string(r.digits[:])
}

// Masked returns the masked form, "680101-1******" ("" for the zero RRN).
func (r RRN) Masked() string {
	if r.digits == nil {
		return ""
	}
	return string(r.digits[:6]) + "-" + string(r.digits[6]) + "******"
}

// String implements fmt.Stringer with the masked form.
func (r RRN) String() string { return r.Masked() }

// GoString implements fmt.GoStringer with the masked form.
func (r RRN) GoString() string { return "booking.RRN(" + fmt.Sprintf("%q", r.Masked()) + ")" }

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s,
// %q, %d, %x ...) prints the masked form and never the digits.
func (r RRN) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		io.WriteString(f, r.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", r.Masked())
	default:
		io.WriteString(f, r.Masked())
	}
}

// LogValue implements slog.LogValuer with the masked form.
func (r RRN) LogValue() slog.Value { return slog.StringValue(r.Masked()) }

// MarshalJSON implements json.Marshaler with the masked form.
func (r RRN) MarshalJSON() ([]byte, error) { return json.Marshal(r.Masked()) }

// MarshalText implements encoding.TextMarshaler with the masked form (so
// YAML, XML and map keys are masked too).
func (r RRN) MarshalText() ([]byte, error) { return []byte(r.Masked()), nil }

// PersonKey is the stable pseudonymous key of a person: hex of
// HMAC-SHA256(secret, the 13 digits). The secret must be random (32 bytes
// or more) and kept out of the database, so the key cannot be reversed by
// trying every possible number. The zero RRN has no key ("").
func PersonKey(secret []byte, r RRN) string {
	if r.digits == nil {
		return ""
	}
	m := hmac.New(sha256.New, secret)
	m.Write(r.digits[:])
	return hex.EncodeToString(m.Sum(nil))
}

// --- phone ------------------------------------------------------------------

// ParsePhone parses a Korean mobile phone number as people type or paste it
// ("010-1234-5678", "010 1234 5678", "+82 10-1234-5678", "+82 (0)10...",
// full-width digits) and returns its digits, "01012345678". 010 numbers
// have 8 digits after the prefix; the old 011, 016, 017, 018 and 019 have 7
// or 8.
func ParsePhone(s string) (string, error) {
	bad := func(en string) (string, error) {
		return "", inputErr(ErrPhone, "phone",
			"휴대전화 번호를 010-1234-5678 형식으로 입력해 주세요.", en)
	}
	if len(s) > 64 {
		return bad("Enter a mobile phone number like 010-1234-5678 (the input is too long).")
	}
	var b strings.Builder
	plus := false
	for i, r := range strings.TrimSpace(s) {
		switch {
		case '0' <= r && r <= '9':
			b.WriteRune(r)
		case '０' <= r && r <= '９':
			b.WriteByte(byte('0' + (r - '０')))
		case (r == '+' || r == '＋') && i == 0:
			plus = true
		case isDashRune(r) || isBlankRune(r) || r == '.' || r == '(' || r == ')' || r == '（' || r == '）':
		default:
			return bad("Enter a mobile phone number like 010-1234-5678 (digits only).")
		}
	}
	d := b.String()
	switch {
	case plus:
		if !strings.HasPrefix(d, "82") {
			return bad("Enter a Korean mobile phone number (+82 or 010).")
		}
		d = strings.TrimPrefix(d[2:], "0") // "+82 10..." and "+82 (0)10..."
		d = "0" + d
	case strings.HasPrefix(d, "0082"):
		d = "0" + strings.TrimPrefix(d[4:], "0")
	}
	if len(d) < 3 || d[0] != '0' || d[1] != '1' {
		return bad("Enter a mobile phone number starting with 010.")
	}
	switch d[:3] {
	case "010":
		if len(d) != 11 {
			return bad("A 010 number has 11 digits, like 010-1234-5678.")
		}
	case "011", "016", "017", "018", "019":
		if len(d) != 10 && len(d) != 11 {
			return bad("Enter a mobile phone number with 10 or 11 digits.")
		}
	default:
		return bad("Enter a mobile phone number starting with 010.")
	}
	// The subscriber part never starts with 0 (or 1 after 010).
	if d[3] == '0' {
		return bad("Enter a valid mobile phone number, like 010-1234-5678.")
	}
	return d, nil
}

// --- name -------------------------------------------------------------------

const maxNameRunes = 50

// ValidName checks and normalises a person's name: surrounding space
// trimmed, runs of spaces collapsed to one, decomposed Hangul (as pasted
// from some systems) composed into syllables. Letters of any script
// (Hangul, Latin, ...) and spaces are allowed, plus the hyphen, apostrophe,
// period and middle dot found in foreign names ("Jean-Luc", "O'Brien",
// "존·스미스") between letters. 1 to maxNameRunes characters.
func ValidName(s string) (string, error) {
	bad := func(ko, en string) (string, error) {
		return "", inputErr(ErrName, "name", ko, en)
	}
	tooLong := func() (string, error) {
		return bad(fmt.Sprintf("이름이 너무 깁니다 (%d자 이하).", maxNameRunes), fmt.Sprintf("The name is too long (%d characters at most).", maxNameRunes))
	}
	if len(s) > 1024 {
		return tooLong()
	}
	if !utf8.ValidString(s) {
		return bad("이름에 쓸 수 없는 문자가 있습니다.", "The name contains characters that cannot be used.")
	}
	s = composeHangul(s)
	var b strings.Builder
	space, prevLetter := false, false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) && prevLetter:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			prevLetter = true
		case unicode.IsSpace(r):
			space = true
			prevLetter = false
		case r == '-' || r == '\'' || r == '’' || r == '.' || r == '·' || r == '・':
			if !prevLetter || space {
				return bad("이름은 글자로 시작하고 끝나야 합니다.", "Punctuation in a name must follow a letter.")
			}
			b.WriteRune(r)
			prevLetter = false // no two punctuation marks in a row
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			return bad("이름에 쓸 수 없는 문자가 있습니다.", "The name contains control characters.")
		default:
			return bad("이름에는 글자와 띄어쓰기만 쓸 수 있습니다.", "A name may contain only letters and spaces.")
		}
	}
	out := b.String()
	if out == "" {
		return bad("이름을 입력해 주세요.", "Enter a name.")
	}
	last, _ := utf8.DecodeLastRuneInString(out)
	if !unicode.IsLetter(last) && last != '.' && !unicode.Is(unicode.Mn, last) {
		return bad("이름은 글자로 시작하고 끝나야 합니다.", "A name must end with a letter.")
	}
	if n := utf8.RuneCountInString(out); n > maxNameRunes {
		return tooLong()
	}
	return out, nil
}

// parseNameRRN checks a name (ValidName) and then an RRN (ParseRRN), the
// way every form that identifies a person does.
func parseNameRRN(name, rrn string) (string, RRN, error) {
	name, err := ValidName(name)
	if err != nil {
		return "", RRN{}, err
	}
	r, err := ParseRRN(rrn)
	if err != nil {
		return "", RRN{}, err
	}
	return name, r, nil
}

// composeHangul composes conjoining Hangul jamo (leading consonant + vowel
// + optional trailing consonant, as in NFD text) into precomposed
// syllables, so that "홍길동" typed on one system equals the same name
// pasted from another. Other text is unchanged.
func composeHangul(s string) string {
	const (
		sBase, lBase, vBase, tBase = 0xAC00, 0x1100, 0x1161, 0x11A7
		lCount, vCount, tCount     = 19, 21, 28
	)
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if l := r - lBase; l >= 0 && l < lCount && i+1 < len(rs) {
			if v := rs[i+1] - vBase; v >= 0 && v < vCount {
				syl := sBase + (l*vCount+v)*tCount
				i++
				if i+1 < len(rs) {
					if t := rs[i+1] - tBase; t > 0 && t < tCount {
						syl += t
						i++
					}
				}
				out = append(out, syl)
				continue
			}
		}
		// A precomposed LV syllable followed by a trailing consonant.
		if sIdx := r - sBase; sIdx >= 0 && sIdx < 11172 && sIdx%tCount == 0 && i+1 < len(rs) {
			if t := rs[i+1] - tBase; t > 0 && t < tCount {
				out = append(out, r+t)
				i++
				continue
			}
		}
		out = append(out, r)
	}
	return string(out)
}

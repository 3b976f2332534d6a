package booking

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Hand-made numbers, one per sex/century digit, with their check digits
// worked out by hand (weights 2,3,4,5,6,7,8,9,2,3,4,5; C = (11 - sum mod 11)
// mod 10). E.g. 680101-123456?: 12+24+0+5+0+7+8+18+6+12+20+30 = 142,
// 142 mod 11 = 10, 11-10 = 1.
var rrnValid = []struct {
	in      string
	birth   Date
	sex     string
	foreign bool
}{
	{"850315-0234563", Date{1885, 3, 15}, "F", false},
	{"991231-9234561", Date{1899, 12, 31}, "M", false},
	{"680101-1234561", Date{1968, 1, 1}, "M", false},
	{"720229-2234562", Date{1972, 2, 29}, "F", false},
	{"000229-3234563", Date{2000, 2, 29}, "M", false},
	{"031231-4234560", Date{2003, 12, 31}, "F", false},
	{"800704-5234564", Date{1980, 7, 4}, "M", true},
	{"960229-6234569", Date{1996, 2, 29}, "F", true},
	{"050101-7234567", Date{2005, 1, 1}, "M", true},
	{"120229-8234560", Date{2012, 2, 29}, "F", true},
}

func TestParseRRNValid(t *testing.T) {
	for _, tt := range rrnValid {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRRN(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if r.BirthDate != tt.birth || r.Sex != tt.sex || r.Foreign != tt.foreign || !r.ChecksumValid {
				t.Errorf("%v: birth %v sex %s foreign %v checksum %v", tt.in, r.BirthDate, r.Sex, r.Foreign, r.ChecksumValid)
			}
			if want := strings.Replace(tt.in, "-", "", 1); r.Digits() != want {
				t.Errorf("Digits() = %q, want %q", r.Digits(), want)
			}
			if err := r.Strict(); err != nil {
				t.Errorf("Strict: %v", err)
			}
			// A wrong check digit is accepted (numbers issued since
			// October 2020 have none), flagged, and rejected by Strict.
			last := tt.in[len(tt.in)-1]
			wrong := tt.in[:len(tt.in)-1] + string('0'+(last-'0'+1)%10)
			r2, err := ParseRRN(wrong)
			if err != nil {
				t.Fatalf("%s: %v", wrong, err)
			}
			if r2.ChecksumValid || r2.BirthDate != tt.birth || r2.Sex != tt.sex {
				t.Errorf("%s: %+v", wrong, r2)
			}
			if err := r2.Strict(); !errors.Is(err, ErrRRNChecksum) {
				t.Errorf("%s: Strict() = %v, want ErrRRNChecksum", wrong, err)
			}
			if r.Equal(r2) || !r.Equal(r) {
				t.Error("Equal")
			}
		})
	}
}

func TestParseRRNForms(t *testing.T) {
	const want = "6801011234561"
	for _, in := range []string{
		"680101-1234561",
		"6801011234561",
		"  680101-1234561\n",
		"680101 - 1234561",
		"680101 1234561",
		"68 01 01 1234 561",
		"680101–1234561", // en dash
		"680101—1234561", // em dash
		"680101‐1234561", // hyphen
		"680101−1234561", // minus
		"680101－1234561", // full-width hyphen-minus
		"６８０１０１－１２３４５６１",
		"６８０１０１1234561",
		"\u3000680101-1234561\u3000", // ideographic spaces
		"\t680101-1234561\u00a0",
		"\ufeff680101-1234561", // BOM from a pasted file
	} {
		t.Run(in, func(t *testing.T) {
			r, err := ParseRRN(in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Digits() != want {
				t.Errorf("%q", r.Digits())
			}
			// A form's box takes what ParseRRN takes (ui reads boxes with it).
			if d, ok := RRNDigits(in); !ok || d != want {
				t.Errorf("RRNDigits: %q, %v", d, ok)
			}
		})
	}
}

func TestParseRRNInvalid(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrRRNFormat},
		{"   ", ErrRRNFormat},
		{"680101-123456", ErrRRNFormat},                            // 12 digits
		{"680101-12345611", ErrRRNFormat},                          // 14 digits
		{"68010-11234561", ErrRRNFormat},                           // dash in the wrong place
		{"680101--1234561", ErrRRNFormat},                          // two dashes
		{"680101-1234-561", ErrRRNFormat},                          // two dashes
		{"-6801011234561", ErrRRNFormat},                           // leading dash
		{"680101-123456a", ErrRRNFormat},                           // letter
		{"68O101-1234561", ErrRRNFormat},                           // letter O for zero
		{"680101_1234561", ErrRRNFormat},                           // underscore
		{"680101/1234561", ErrRRNFormat},                           // slash
		{"٦٨٠١٠١-١٢٣٤٥٦١", ErrRRNFormat},                           // Arabic-Indic digits are not accepted
		{"680101-1234561x", ErrRRNFormat},                          // trailing garbage
		{"+6801011234561", ErrRRNFormat},                           // sign
		{"680101-1234561" + strings.Repeat(" ", 80), ErrRRNFormat}, // too long
		{"681301-1234561", ErrRRNDate},                             // month 13
		{"680001-1234561", ErrRRNDate},                             // month 0
		{"680100-1234561", ErrRRNDate},                             // day 0
		{"680132-1234561", ErrRRNDate},                             // day 32
		{"680431-1234561", ErrRRNDate},                             // 31 April
		{"680230-2234561", ErrRRNDate},                             // 30 February
		{"000229-1234561", ErrRRNDate},                             // 1900 is not a leap year
		{"000229-2234561", ErrRRNDate},                             // 1900
		{"000229-5234561", ErrRRNDate},                             // 1900, foreign
		{"000229-6234561", ErrRRNDate},                             // 1900, foreign
		{"000229-9234561", ErrRRNDate},                             // 1800 is not a leap year
		{"000229-0234561", ErrRRNDate},                             // 1800
		{"010229-3234561", ErrRRNDate},                             // 2001
		{"010229-4234561", ErrRRNDate},                             // 2001
		{"210229-7234561", ErrRRNDate},                             // 2021, foreign
		{"210229-8234561", ErrRRNDate},                             // 2021, foreign
		{"690229-1234561", ErrRRNDate},                             // 1969
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRRN(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !r.IsZero() {
				t.Error("non-zero RRN returned with an error")
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Code == "" || ie.Field != "rrn" || ie.Message == "" || ie.MessageEN == "" {
				t.Errorf("error %#v is not a complete *InputError", err)
			}
			ko, en := ErrorMessage(err)
			if ko == "" || en == "" || !utf8.ValidString(ko) {
				t.Errorf("messages %q %q", ko, en)
			}
			// The error never repeats the input.
			if digits := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, tt.in); len(digits) >= 6 && strings.Contains(err.Error()+ko+en, digits[len(digits)-6:]) {
				t.Errorf("error %q shows the input", err)
			}
		})
	}
	// The same day in a leap year of the other century is fine.
	for _, in := range []string{"000229-3234561", "000229-7234561", "040229-1234561", "040229-0234561", "040229-5234561"} {
		if _, err := ParseRRN(in); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}

// A number with the wrong count of digits is told the count, in plain
// words in both languages.
func TestRRNDigitCountMessage(t *testing.T) {
	_, err := ParseRRN("680315-123456")
	ko, en := ErrorMessage(err)
	if !strings.Contains(ko, "13자리입니다. 지금 12자리를 입력했습니다") || !strings.Contains(en, "13 digits; you entered 12") ||
		strings.Contains(ko+en, "YYMMDD") || strings.Contains(ko, "000000") {
		t.Errorf("%q / %q", ko, en)
	}
}

func TestRRNErrorMessages(t *testing.T) {
	for _, err := range []error{ErrRRNFormat, ErrRRNSexDigit, ErrRRNDate, ErrRRNChecksum, ErrPhone, ErrName, errors.New("other")} {
		ko, en := ErrorMessage(err)
		if ko == "" || en == "" {
			t.Errorf("%v: %q %q", err, ko, en)
		}
		if err == ErrRRNDate && !strings.Contains(ko, "생년월일") {
			t.Errorf("%v: %q", err, ko)
		}
	}
	_, err := ParseRRN("680132-1234561")
	ko, en := ErrorMessage(fmt.Errorf("wrapped: %w", err))
	if !strings.Contains(ko, "생년월일") || !strings.Contains(en, "birth date") {
		t.Errorf("%q %q", ko, en)
	}
	if err := (RRN{}).Strict(); !errors.Is(err, ErrRRNFormat) {
		t.Errorf("zero RRN Strict() = %v", err)
	}
}

// The last six digits never appear in any printed, logged or encoded form.
func TestRRNIsMasked(t *testing.T) {
	r, err := ParseRRN("680101-1234561")
	if err != nil {
		t.Fatal(err)
	}
	const secret = "234561"
	const masked = "680101-1******"
	type holder struct {
		Public  RRN
		private RRN
		Ptr     *RRN
	}
	h := holder{Public: r, private: r, Ptr: &r}
	var outs []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X", "%10v", "%-20s", "%T %v"} {
		outs = append(outs, fmt.Sprintf(format, r), fmt.Sprintf(format, &r), fmt.Sprintf(format, h), fmt.Sprintf(format, []RRN{r}),
			fmt.Sprintf(format, map[string]RRN{"k": r}))
	}
	outs = append(outs, r.String(), r.GoString(), fmt.Sprint(r), fmt.Sprintln(r, h), r.Masked())
	if got := r.String(); got != masked {
		t.Errorf("String() = %q, want %q", got, masked)
	}
	if got := fmt.Sprintf("%#v", r); !strings.Contains(got, masked) {
		t.Errorf("%%#v = %q", got)
	}
	for _, enc := range []func() ([]byte, error){
		func() ([]byte, error) { return json.Marshal(r) },
		func() ([]byte, error) { return json.Marshal(h) },
		func() ([]byte, error) { return json.Marshal(map[string]any{"rrn": r, "p": &r}) },
		func() ([]byte, error) { return r.MarshalText() },
	} {
		b, err := enc()
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
	}
	if b, _ := json.Marshal(r); string(b) != `"`+masked+`"` {
		t.Errorf("JSON %s", b)
	}
	for _, handler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(handler(&buf))
		log.Info("booking", "rrn", r, "ptr", &r, "holder", h, slog.Any("any", r), slog.Group("g", "rrn", r))
		outs = append(outs, buf.String())
		if !strings.Contains(buf.String(), masked) {
			t.Errorf("log %q lacks the masked form", buf.String())
		}
	}
	for _, out := range outs {
		if strings.Contains(out, secret) || strings.Contains(out, "6801011234561") {
			t.Errorf("output shows the number: %q", out)
		}
	}
	if (RRN{}).String() != "" || (RRN{}).Digits() != "" {
		t.Error("zero RRN")
	}
}

func TestPersonKey(t *testing.T) {
	a, _ := ParseRRN("680101-1234561")
	b, _ := ParseRRN("6801011234561")
	c, _ := ParseRRN("680101-1234562")
	secret := []byte("0123456789abcdef0123456789abcdef")
	ka := PersonKey(secret, a)
	// HMAC-SHA256(secret, "6801011234561"), computed independently
	// (Python: hmac.new(secret, b"6801011234561", hashlib.sha256).hexdigest()).
	const want = "26d2186b95940d7b8e85be9ab013516264d364f658bc1a1eb701c3b2a47cfef8"
	if ka != want {
		t.Fatalf("key %q, want %q", ka, want)
	}
	if ka != PersonKey(secret, b) {
		t.Error("same number, different keys")
	}
	if ka == PersonKey(secret, c) || ka == PersonKey([]byte("other secret"), a) {
		t.Error("different number or secret, same key")
	}
	if PersonKey(secret, RRN{}) != "" {
		t.Error("zero RRN has a key")
	}
}

func TestParsePhone(t *testing.T) {
	valid := []struct{ in, want string }{
		{"010-1234-5678", "01012345678"},
		{"01012345678", "01012345678"},
		{" 010 1234 5678 ", "01012345678"},
		{"010.1234.5678", "01012345678"},
		{"+82 10-1234-5678", "01012345678"},
		{"+821012345678", "01012345678"},
		{"+82 (0)10 1234 5678", "01012345678"},
		{"+82 010-1234-5678", "01012345678"},
		{"0082-10-1234-5678", "01012345678"},
		{"０１０－１２３４－５６７８", "01012345678"},
		{"＋８２ １０ １２３４ ５６７８", "01012345678"},
		{"010–1234–5678", "01012345678"},
		{"011-234-5678", "0112345678"},
		{"016-2345-6789", "01623456789"},
		{"017 234 5678", "0172345678"},
		{"018-234-5678", "0182345678"},
		{"019-9876-5432", "01998765432"},
	}
	testParser(t, ParsePhone, ErrPhone, valid, []string{
		"", "010", "010-1234-567", "010-1234-56789", "010-123-4567", "02-1234-5678", "031-123-4567",
		"012-1234-5678", "015-1234-5678", "1012345678", "+1 415 555 1234", "+82 2 1234 5678",
		"010-1234-567a", "010_1234_5678", "010-0123-4567", "82-10-1234-5678", "010-1234-5678+",
		"++821012345678", strings.Repeat("0", 100),
	})
}

// testParser checks a parser of text a person types: each valid input
// gives its normal form, each invalid one sentinel, no text and a message
// the person can read.
func testParser(t *testing.T, parse func(string) (string, error), sentinel error, valid []struct{ in, want string }, invalid []string) {
	t.Helper()
	for _, tt := range valid {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parse(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	for _, in := range invalid {
		t.Run("invalid "+in, func(t *testing.T) {
			got, err := parse(in)
			if !errors.Is(err, sentinel) || got != "" {
				t.Fatalf("got %q, %v; want %v", got, err, sentinel)
			}
			if ko, en := ErrorMessage(err); ko == "" || en == "" {
				t.Error("no message")
			}
		})
	}
}

func TestValidName(t *testing.T) {
	decomposed := "\u1112\u1169\u11BC\u1100\u1175\u11AF\u1103\u1169\u11BC" // 홍길동 in NFD (jamo)
	valid := []struct{ in, want string }{
		{"홍길동", "홍길동"},
		{"  홍길동  ", "홍길동"},
		{decomposed, "홍길동"},
		{"남궁 민수", "남궁 민수"},
		{"John  Smith", "John Smith"},
		{"JOHN\tSMITH", "JOHN SMITH"},
		{"Jean-Luc Picard", "Jean-Luc Picard"},
		{"O'Brien", "O'Brien"},
		{"J. R. Smith", "J. R. Smith"},
		{"존·스미스", "존·스미스"},
		{"Nguyễn Văn An", "Nguyễn Văn An"},
		{"김", "김"},
		{strings.Repeat("가", 50), strings.Repeat("가", 50)},
	}
	testParser(t, ValidName, ErrName, valid, []string{
		"", "   ", strings.Repeat("가", 51), "홍길동1", "홍길동\x00", "홍\n길동\x07", "홍길동\u200e", "<script>",
		"Robert'); DROP TABLE", "-홍길동", "홍길동-", "홍--길동", "😀", "홍길동!", "a@b", "\xff\xfe",
	})
}

func FuzzParseRRN(f *testing.F) {
	for _, tt := range rrnValid {
		f.Add(tt.in)
	}
	for _, s := range []string{"", "-", "680101-123456", "000229-1234561", "010229-3234561", "６８０１０１－１２３４５６１",
		"680101 – 1234561", "68010１-1234561\u3000", "999999-9999999", "000000-0000000", "\xff680101-1234561"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRRN(s)
		if err != nil {
			var ie *InputError
			if !r.IsZero() || !errors.As(err, &ie) || ie.Message == "" {
				t.Fatalf("error %v with %+v", err, r)
			}
			return
		}
		d := r.Digits()
		if len(d) != 13 || strings.Trim(d, "0123456789") != "" {
			t.Fatalf("digits %q", d)
		}
		// The pages read the box with RRNDigits: whatever the API accepts,
		// they accept too, as the same digits.
		if pd, ok := RRNDigits(s); !ok || pd != d {
			t.Fatalf("RRNDigits(%q) = %q, %v; ParseRRN read %q", s, pd, ok, d)
		}
		if _, ok := NewDate(r.BirthDate.Year, r.BirthDate.Month, r.BirthDate.Day); !ok {
			t.Fatalf("birth date %v does not exist", r.BirthDate)
		}
		if r.BirthDate.Year < 1800 || r.BirthDate.Year > 2099 || r.BirthDate.Year%100 != int(d[0]-'0')*10+int(d[1]-'0') {
			t.Fatalf("birth date %v from %q", r.BirthDate, d)
		}
		if r.Sex != "M" && r.Sex != "F" {
			t.Fatalf("sex %q", r.Sex)
		}
		// Round trips, in both written forms.
		for _, form := range []string{d, d[:6] + "-" + d[6:]} {
			r2, err := ParseRRN(form)
			if err != nil || !r2.Equal(r) || r2.BirthDate != r.BirthDate || r2.Sex != r.Sex ||
				r2.Foreign != r.Foreign || r2.ChecksumValid != r.ChecksumValid {
				t.Fatalf("%q: %+v %v, want %+v", form, r2, err, r)
			}
		}
		if m := fmt.Sprintf("%v %+v %#v %d %s", r, r, r, r, r); strings.Contains(m, d[7:]) && !strings.Contains(d[:7], d[7:]) {
			t.Fatalf("masked output %q shows the digits", m)
		}
		if (r.Strict() == nil) != r.ChecksumValid {
			t.Fatal("Strict disagrees with ChecksumValid")
		}
	})
}

func TestFormatRRN(t *testing.T) {
	for _, c := range []struct {
		birth  Date
		male   bool
		serial int
		want   string
	}{
		{Date{1967, time.January, 1}, true, 23456, "670101-1234564"}, // 12+21+0+5+0+7+8+18+6+12+20+30 = 139; 11 - 139 mod 11 = 4,
		{Date{1968, time.December, 31}, false, 0, "681231-2000008"},  // 12+24+4+10+18+7+16 = 91; 11 - 91 mod 11 = 8,
		{Date{2004, time.February, 29}, true, 99999, ""},
		{Date{2001, time.March, 5}, false, 123456, ""}, // serial taken mod 100000
	} {
		got := FormatRRN(c.birth, c.male, c.serial)
		if c.want != "" && got != c.want {
			t.Errorf("FormatRRN(%v, %v, %d) = %q, want %q", c.birth, c.male, c.serial, got, c.want)
		}
		r, err := ParseRRN(got)
		if err != nil {
			t.Fatalf("%q does not parse: %v", got, err)
		}
		sex := "F"
		if c.male {
			sex = "M"
		}
		if r.BirthDate != c.birth || r.Sex != sex || r.Foreign || r.Strict() != nil {
			t.Errorf("%q parses to %v %s foreign=%v strict=%v", got, r.BirthDate, r.Sex, r.Foreign, r.Strict())
		}
	}
}

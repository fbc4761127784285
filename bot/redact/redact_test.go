package redact

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// redactCase is a message that must be redacted; secret is the raw value
// that must not survive anywhere in the output.
type redactCase struct {
	name   string
	in     string
	want   string
	found  []Kind
	secret string
}

const (
	nn = NationalNumberPlaceholder
	pw = PasswordPlaceholder
)

// Check digits below were computed by hand with checkDigits and are
// re-verified in TestCheckDigitVariants.
var nationalNumberCases = []redactCase{
	{"dotted", "85.07.30-033.28", nn, []Kind{NationalNumber}, "85.07.30-033.28"},
	{"bare", "85073003328", nn, []Kind{NationalNumber}, "85073003328"},
	{"spaced groups", "850730 033 28", nn, []Kind{NationalNumber}, "850730 033 28"},
	{"mixed separators", "85.07.30 033-28", nn, []Kind{NationalNumber}, "85.07.30 033-28"},
	{"dashes", "850730-033-28", nn, []Kind{NationalNumber}, "850730-033-28"},
	{"slashes", "85/07/30/033/28", nn, []Kind{NationalNumber}, "85/07/30/033/28"},
	{"all spaces", "85 07 30 033 28", nn, []Kind{NationalNumber}, "85 07 30 033 28"},
	{"born 2005", "05.03.12-123.60", nn, []Kind{NationalNumber}, "05.03.12-123.60"},
	{"born 2001 bare", "01010100126", nn, []Kind{NationalNumber}, "01010100126"},
	{"bis month+40", "85.47.30-033.17", nn, []Kind{NationalNumber}, "85.47.30-033.17"},
	{"bis 2009 month+20", "09.20.30-512.13", nn, []Kind{NationalNumber}, "09.20.30-512.13"},
	{"unknown birth date", "85.00.00-123.13", nn, []Kind{NationalNumber}, "85.00.00-123.13"},
	{"check digits 97", "75.01.01-097.97", nn, []Kind{NationalNumber}, "75.01.01-097.97"},
	{
		"in dutch sentence", "mijn rijksregisternummer is 85.07.30-033.28 ok",
		"mijn rijksregisternummer is " + nn + " ok", []Kind{NationalNumber}, "85.07.30-033.28",
	},
	{
		"in french sentence", "Mon numéro national: 85073003328.",
		"Mon numéro national: " + nn + ".", []Kind{NationalNumber}, "85073003328",
	},
	{"after colon", "RRN:85073003328", "RRN:" + nn, []Kind{NationalNumber}, "85073003328"},
	{"glued to letters", "nr85073003328x", "nr" + nn + "x", []Kind{NationalNumber}, "85073003328"},
	{
		// A naive regexp would consume "12 850730033" + fail on the
		// trailing digits and never look at the real number.
		"after a short number", "12 85073003328", "12 " + nn, []Kind{NationalNumber}, "85073003328",
	},
	{
		"two numbers", "85073003328 en 05031212360",
		nn + " en " + nn, []Kind{NationalNumber, NationalNumber}, "05031212360",
	},
}

var passwordCases = []redactCase{
	// English
	{"en my password is", "my password is hunter2", "my password is " + pw, []Kind{Password}, "hunter2"},
	{"en colon", "password: hunter2", "password: " + pw, []Kind{Password}, "hunter2"},
	{"en colon no space", "password:hunter2", "password:" + pw, []Kind{Password}, "hunter2"},
	{"en equals", "Password = hunter2", "Password = " + pw, []Kind{Password}, "hunter2"},
	{"en pw", "my pw is hunter2", "my pw is " + pw, []Kind{Password}, "hunter2"},
	{"en pwd", "pwd: hunter2", "pwd: " + pw, []Kind{Password}, "hunter2"},
	{"en new", "my new password is Tr0ub4dor&3", "my new password is " + pw, []Kind{Password}, "Tr0ub4dor&3"},
	{"en the", "the password is hunter2.", "the password is " + pw, []Kind{Password}, "hunter2"},
	{"en bare is", "password is hunter2, thanks", "password is " + pw + " thanks", []Kind{Password}, "hunter2"},
	{"en upper", "MY PASSWORD IS HUNTER2", "MY PASSWORD IS " + pw, []Kind{Password}, "HUNTER2"},
	{"en is colon", "my password is: hunter2", "my password is: " + pw, []Kind{Password}, "hunter2"},
	{"en now", "my password is now S3cret!", "my password is now " + pw, []Kind{Password}, "S3cret"},
	{"en double quotes", `my password is "hunter2"`, "my password is " + pw, []Kind{Password}, "hunter2"},
	{"en backticks", "password: `hunter2`", "password: " + pw, []Kind{Password}, "hunter2"},
	{"en quoted phrase", "password is 'blue horse 42' ok", "password is " + pw + " ok", []Kind{Password}, "horse 42"},
	{"en apostrophe inside", "password: 'it's4me' ok", "password: " + pw + " ok", []Kind{Password}, "s4me"},
	{"en unclosed quote", `password: "hunter2`, "password: " + pw, []Kind{Password}, "hunter2"},
	{"en typo", "my pasword is hunter2", "my pasword is " + pw, []Kind{Password}, "hunter2"},
	{"en newline", "password:\nhunter2\nthanks", "password:\n" + pw + "\nthanks", []Kind{Password}, "hunter2"},
	// Dutch
	{"nl mijn wachtwoord is", "mijn wachtwoord is Zomer2024", "mijn wachtwoord is " + pw, []Kind{Password}, "Zomer2024"},
	{"nl colon", "wachtwoord: Zomer2024", "wachtwoord: " + pw, []Kind{Password}, "Zomer2024"},
	{"nl ww", "ww: Zomer2024", "ww: " + pw, []Kind{Password}, "Zomer2024"},
	{"nl paswoord", "mijn paswoord is Zomer2024", "mijn paswoord is " + pw, []Kind{Password}, "Zomer2024"},
	{"nl passwoord", "mijn passwoord is Zomer2024", "mijn passwoord is " + pw, []Kind{Password}, "Zomer2024"},
	{"nl het", "het wachtwoord is Zomer2024!", "het wachtwoord is " + pw, []Kind{Password}, "Zomer2024"},
	{"nl equals", "wachtwoord = Zomer2024", "wachtwoord = " + pw, []Kind{Password}, "Zomer2024"},
	{"nl nu", "Mijn WACHTWOORD is nu Zomer2024", "Mijn WACHTWOORD is nu " + pw, []Kind{Password}, "Zomer2024"},
	{"nl compound", "loginwachtwoord: Zomer2024", "loginwachtwoord: " + pw, []Kind{Password}, "Zomer2024"},
	// French
	{"fr mon mot de passe est", "mon mot de passe est Soleil#9", "mon mot de passe est " + pw, []Kind{Password}, "Soleil#9"},
	{"fr colon spaced", "mot de passe : Soleil#9", "mot de passe : " + pw, []Kind{Password}, "Soleil#9"},
	{"fr nbsp colon", "mot de passe\u00a0: Soleil#9", "mot de passe\u00a0: " + pw, []Kind{Password}, "Soleil#9"},
	{"fr mdp", "mdp: Soleil#9", "mdp: " + pw, []Kind{Password}, "Soleil#9"},
	{"fr mon mdp est", "mon mdp est Soleil#9", "mon mdp est " + pw, []Kind{Password}, "Soleil#9"},
	{"fr c'est", "le mot de passe c'est Soleil#9", "le mot de passe c'est " + pw, []Kind{Password}, "Soleil#9"},
	{"fr equals", "mot de passe = Soleil#9", "mot de passe = " + pw, []Kind{Password}, "Soleil#9"},
	{"fr curly c’est", "mon mot de passe c’est Soleil#9", "mon mot de passe c’est " + pw, []Kind{Password}, "Soleil#9"},
	{"fr comma c'est", "mon mot de passe, c'est Soleil#9", "mon mot de passe, c'est " + pw, []Kind{Password}, "Soleil#9"},
	{"fr guillemets", "mot de passe : « Soleil#9 » merci", "mot de passe : " + pw + " merci", []Kind{Password}, "Soleil#9"},
	{"fr guillemets tight", "mot de passe : «Soleil#9».", "mot de passe : " + pw + ".", []Kind{Password}, "Soleil#9"},
	{"fr accented upper", "MON MOT DE PASSE EST Été2024", "MON MOT DE PASSE EST " + pw, []Kind{Password}, "Été2024"},
}

var mixedCases = []redactCase{
	{
		"password then number", "password: abc123 and my rrn is 85.07.30-033.28",
		"password: " + pw + " and my rrn is " + nn, []Kind{Password, NationalNumber}, "abc123",
	},
	{
		"number then password", "85073003328 / mdp: Soleil#9",
		nn + " / mdp: " + pw, []Kind{NationalNumber, Password}, "Soleil#9",
	},
	{"two passwords", "ww: a1b2 pwd: c3d4", "ww: " + pw + " pwd: " + pw, []Kind{Password, Password}, "c3d4"},
	{
		// Both scanners claim the same bytes; it must be replaced once.
		"number as password", "password: 85073003328", "password: " + nn, []Kind{NationalNumber}, "85073003328",
	},
	{
		// The password token is shorter than the spaced number it starts.
		"spaced number as password", "wachtwoord: 85 07 30 033 28", "wachtwoord: " + nn, []Kind{NationalNumber}, "033 28",
	},
	{"emoji around", "🙈 pw: 🔑secret🔑 🙈", "🙈 pw: " + pw + " 🙈", []Kind{Password}, "secret"},
}

func allRedactCases() []redactCase {
	all := append([]redactCase{}, nationalNumberCases...)
	all = append(all, passwordCases...)
	return append(all, mixedCases...)
}

func TestTextRedacts(t *testing.T) {
	for _, tc := range allRedactCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := Text(tc.in)
			require.Equal(t, tc.want, got.Text)
			require.Equal(t, tc.found, got.Found)
			require.True(t, got.Redacted())
		})
	}
}

func TestTextNeverLeaksSecret(t *testing.T) {
	for _, tc := range allRedactCases() {
		if tc.secret == "" {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, tc.in, tc.secret, "test case must contain its secret")
			require.NotContains(t, Text(tc.in).Text, tc.secret)
		})
	}
}

func TestTextLeavesAlone(t *testing.T) {
	cases := map[string]string{
		// national numbers: bad checksum, phone numbers, longer digit runs
		"bad checksum":             "85.07.30-033.29",
		"bad checksum bare":        "85073003327",
		"zero check digits":        "75.01.01-097.00",
		"mobile":                   "bel me op 0470 12 34 56",
		"mobile slashes":           "0470/12.34.56",
		"mobile intl spaced":       "+32 470 12 34 56",
		"mobile intl bare":         "+32470123456",
		"mobile intl 00":           "0032 470 12 34 56",
		"phone 11 digits":          "32470123456",
		"phone 11 digits leading0": "04701234567",
		"landline":                 "02 123 45 67",
		"longer run after":         "850730033281",
		"longer run before":        "185073003328",
		"longer run both":          "1285073003328",
		"longer run separated":     "850730-033-281",
		"double separator":         "85..07.30-033.28",
		"too short":                "85.07.30-033.2",
		"date":                     "op 30.07.1985 om 10u",
		"iban":                     "BE68 5390 0754 7034",
		// passwords: phrases that describe rather than reveal
		"en forgot":           "I forgot my password",
		"en not working":      "my password is not working",
		"en wrong":            "my password is wrong",
		"en what is":          "what is my password?",
		"en expired":          "password is expired",
		"en expired shout":    "PASSWORD IS EXPIRED!",
		"en isn't":            "my password isn't accepted",
		"en too short":        "the password is too short",
		"en the same":         "my password is the same as before",
		"en reset":            "How do I reset my password?",
		"en reset link":       "password reset link please",
		"en nothing":          "password: ",
		"en nothing bare":     "password:",
		"en ends at is":       "my password is",
		"en ellipsis":         "my password is...",
		"en lone question":    "password: ?",
		"en only punctuation": "password: !!",
		"en empty quotes":     `password: ""`,
		"nl vergeten":         "mijn wachtwoord is vergeten",
		"nl niet juist":       "mijn wachtwoord is niet juist",
		"nl kwijt":            "mijn wachtwoord is kwijt.",
		"nl te kort":          "het wachtwoord is te kort",
		"nl werkt niet":       "mijn wachtwoord werkt niet",
		"nl verlopen":         "Mijn wachtwoord is verlopen!!",
		"fr oublié":           "mon mot de passe est oublié",
		"fr OUBLIÉ":           "MON MOT DE PASSE EST OUBLIÉ",
		"fr ne marche pas":    "mon mot de passe ne marche pas",
		"fr incorrect":        "mon mot de passe est incorrect",
		"fr trop court":       "le mot de passe est trop court",
		"fr pas bon":          "mon mot de passe c'est pas bon",
		"fr empty guillemet":  "mot de passe : « »",
		"www":                 "www: example.com",
		"passwords plural":    "passwords are case sensitive",
		// misc
		"empty":        "",
		"plain":        "hallo, ik ben nieuw hier",
		"emoji":        "👋 bonjour 🎓",
		"invalid utf8": "\xff\xfe pass\xc3 word: \xff",
		"placeholder":  "[redacted password]",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			got := Text(in)
			require.Equal(t, in, got.Text)
			require.Empty(t, got.Found)
			require.False(t, got.Redacted())
		})
	}
}

func TestValidNationalNumber(t *testing.T) {
	valid := []string{
		"85.07.30-033.28", "85073003328", "850730 033 28", " 85.07.30 033-28 ",
		"05.03.12-123.60", "01010100126", "85.47.30-033.17", "85.00.00-123.13",
		"75.01.01-097.97",
	}
	for _, s := range valid {
		require.True(t, ValidNationalNumber(s), s)
	}
	invalid := []string{
		"", "85.07.30-033.29", "8507300332", "850730033280", "85.07.30-033.28x",
		"x85073003328", "85 07 30 03 328", "32470123456", "04701234567",
		"0470123456", "75010109700", "８５０７３００３３２８",
	}
	for _, s := range invalid {
		require.False(t, ValidNationalNumber(s), s)
	}
}

// TestCheckDigitVariants pins the examples above to the two checksum
// variants, so that a 2000+ number cannot pass by the old rule by accident.
func TestCheckDigitVariants(t *testing.T) {
	cases := []struct {
		first9 int64
		cc     int64
		from20 bool
	}{
		{850730033, 28, false},
		{854730033, 17, false},
		{850000123, 13, false},
		{750101097, 97, false},
		{50312123, 60, true},
		{10101001, 26, true},
		{92030512, 13, true},
	}
	for _, c := range cases {
		require.Equal(t, c.cc, checkDigits(c.first9, c.from20), c.first9)
		require.NotEqual(t, c.cc, checkDigits(c.first9, !c.from20), c.first9)
	}
}

func TestTextHugeInput(t *testing.T) {
	inputs := []string{
		strings.Repeat("password: x ", 50_000),
		"password: " + strings.Repeat("a", 1<<20),
		"password: " + strings.Repeat(`"x `, 100_000),
		strings.Repeat("85073003328 ", 10_000),
	}
	for _, in := range inputs {
		got := Text(in)
		require.True(t, got.Redacted())
		require.True(t, utf8.ValidString(got.Text))
	}
	digits := strings.Repeat("8", 1<<20)
	require.Equal(t, digits, Text(digits).Text, "one long digit run holds no number")
}

func FuzzText(f *testing.F) {
	seeds := []string{
		"", "hello", "85.07.30-033.28", "0470 12 34 56", "+32470123456",
		"my password is hunter2", "mot de passe : « Soleil#9 »", "ww: x",
		"mdp:", "password: \"", "«", "\xff\xfe", "🙈 pw: 🔑 🙈",
		"12 85073003328", "mijn wachtwoord is vergeten",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Text(s)
		if got.Redacted() == (got.Text == s) {
			t.Fatalf("Redacted()=%v but text changed=%v for %q", got.Redacted(), got.Text != s, s)
		}
		if utf8.ValidString(s) && !utf8.ValidString(got.Text) {
			t.Fatalf("valid UTF-8 became invalid: %q -> %q", s, got.Text)
		}
		// Every trigger keyword contains a p or a w and every national
		// number contains ASCII digits; without either, nothing may change.
		if !strings.ContainsAny(s, "0123456789pPwW") && got.Text != s {
			t.Fatalf("text without digits or trigger changed: %q -> %q", s, got.Text)
		}
	})
}

func BenchmarkText(b *testing.B) {
	msgs := map[string]string{
		"plain": "Hallo, ik ben een nieuwe student en mijn account activatie lukt niet. " +
			"Ik heb mijn e-mail al gecontroleerd maar ik krijg geen code. Kan je helpen?",
		"keyword": "Bonjour, j'ai oublié mon mot de passe et mon wachtwoord werkt ook niet, " +
			"my password is not working either. Help please!",
		"secrets": "mijn wachtwoord is Zomer2024 en mijn rijksregisternummer 85.07.30-033.28",
	}
	for name, msg := range msgs {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				Text(msg)
			}
		})
	}
}

// Phrasings with words between the keyword and the secret, or none: only
// password-looking secrets count there.
func TestLoosePasswordPhrases(t *testing.T) {
	for in, secret := range map[string]string{
		"my password for toledo is Hunter2!":        "Hunter2",
		"the password I chose is Zomer2026":         "Zomer2026",
		"password Hunter2!":                         "Hunter2",
		"mijn wachtwoord voor toledo is Geheim#12":  "Geheim#12",
		"mon mot de passe pour toledo est Soleil77": "Soleil77",
	} {
		r := Text(in)
		if !r.Redacted() || strings.Contains(r.Text, secret) {
			t.Errorf("Text(%q) = %q, want %q redacted", in, r.Text, secret)
		}
	}
	for _, in := range []string{
		"the password reset link is broken",
		"my password for toledo is not working",
		"password expired yesterday",
		"mijn wachtwoord voor toledo is vergeten",
		"password reset please",
		"le mot de passe de toledo est bloqué",
	} {
		if r := Text(in); r.Redacted() {
			t.Errorf("Text(%q) = %q, want it left alone", in, r.Text)
		}
	}
}

// A valid number in a student's own grouping is a national number all the same.
func TestNationalNumberInAnyGrouping(t *testing.T) {
	for _, in := range []string{"I filled in 8507 3003 328 but error", "85 07 30 03 328", "850 730 033 28"} {
		r := Text(in)
		require.Equal(t, []Kind{NationalNumber}, r.Found, in)
		require.NotContains(t, r.Text, "328", in)
	}
}

func TestPassAndTrailingPunctuation(t *testing.T) {
	for _, in := range []string{"my pass is Zomer2026!", "my password is Zomer2026!"} {
		r := Text(in)
		require.Equal(t, []Kind{Password}, r.Found, in)
		require.NotContains(t, r.Text, "Zomer2026", in)
		require.True(t, strings.HasSuffix(r.Text, PasswordPlaceholder), "the whole token, '!' included: %q", r.Text)
	}
	require.False(t, Text("my bus pass is valid").Redacted())
}

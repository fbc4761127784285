package when

import (
	"testing"
	"time"
	_ "time/tzdata" // CI machines without /usr/share/zoneinfo
)

func brussels(tb testing.TB) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation("Europe/Brussels")
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

type arrivalCase struct {
	in   string
	want time.Time // zero means ok must be false
}

func runCases(t *testing.T, now time.Time, loc *time.Location, cases []arrivalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := Arrival(tc.in, now, loc)
			if tc.want.IsZero() {
				if ok {
					t.Fatalf("Arrival(%q) = %v, want ok=false", tc.in, got)
				}
				return
			}
			if !ok {
				t.Fatalf("Arrival(%q) not ok, want %v", tc.in, tc.want)
			}
			if !got.Equal(tc.want) || got.Location() != loc {
				t.Fatalf("Arrival(%q) = %v, want %v (ago %v)", tc.in, got, tc.want, now.Sub(tc.want))
			}
		})
	}
}

func TestArrival(t *testing.T) {
	loc := brussels(t)
	now := time.Date(2026, 9, 21, 15, 0, 0, 0, loc) // Monday, CEST
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	on := func(dayOffset, h, m int) time.Time { return time.Date(2026, 9, 21+dayOffset, h, m, 0, 0, loc) }
	const minute, hour = time.Minute, time.Hour

	runCases(t, now, loc, []arrivalCase{
		// English relative
		{"10 minutes ago", ago(10 * minute)},
		{"it came about 10 minutes ago I think", ago(10 * minute)},
		{"10 min ago", ago(10 * minute)},
		{"10mins ago", ago(10 * minute)},
		{"2 hours ago", ago(2 * hour)},
		{"2h ago", ago(2 * hour)},
		{"an hour ago", ago(hour)},
		{"a few minutes ago", ago(5 * minute)},
		{"half an hour ago", ago(30 * minute)},
		{"an hour and a half ago", ago(90 * minute)},
		{"1.5 hours ago", ago(90 * minute)},
		{"2 and a half hours ago", ago(150 * minute)},
		{"2 hours and 15 minutes ago", ago(135 * minute)},
		{"a quarter of an hour ago", ago(15 * minute)},
		{"two hours ago", ago(2 * hour)},
		{"twenty five minutes ago", ago(25 * minute)},
		{"10-15 minutes ago", ago(10 * minute)},
		{"2 or 3 hours ago", ago(2 * hour)},
		{"since 10 minutes", ago(10 * minute)},
		{"since 14:00", on(0, 14, 0)},
		{"2 days ago", ago(48 * hour)},
		{"a couple of days ago", ago(48 * hour)},
		{"30 seconds ago", ago(30 * time.Second)},
		{"just now", now},
		{"Right now!", now},
		{"a moment ago", now},
		{"yesterday", on(0, 0, 0)}, // the end of yesterday: the latest it can be
		{"last week", ago(7 * 24 * hour)},
		{"this morning", on(0, 12, 0)}, // the latest morning hour
		{"10 minutes", ago(10 * minute)},
		{"2 hours", ago(2 * hour)},

		// Dutch relative
		{"10 minuten geleden", ago(10 * minute)},
		{"10 min geleden", ago(10 * minute)},
		{"2 uur geleden", ago(2 * hour)},
		{"een uur geleden", ago(hour)},
		{"Eén uur geleden", ago(hour)},
		{"een half uur geleden", ago(30 * minute)},
		{"anderhalf uur geleden", ago(90 * minute)},
		{"1,5 uur geleden", ago(90 * minute)},
		{"twee uur geleden", ago(2 * hour)},
		{"een paar minuten geleden", ago(5 * minute)},
		{"een kwartier geleden", ago(15 * minute)},
		{"drie kwartier geleden", ago(45 * minute)},
		{"1u30 geleden", ago(90 * minute)},
		{"1 uur en 10 minuten geleden", ago(70 * minute)},
		{"2 of 3 uur geleden", ago(2 * hour)},
		{"10 minuten terug", ago(10 * minute)},
		{"net", now},
		{"zonet", now},
		{"daarnet binnengekomen", now},
		{"juist", now},
		{"gisteren", on(0, 0, 0)},
		{"2 dagen geleden", ago(48 * hour)},
		{"vorige week", ago(7 * 24 * hour)},
		{"vanmorgen", on(0, 12, 0)},
		{"vanochtend", on(0, 12, 0)},
		{"gisterochtend", on(-1, 12, 0)},

		// French relative
		{"il y a 10 minutes", ago(10 * minute)},
		{"il y a 10 min", ago(10 * minute)},
		{"il y a 2 heures", ago(2 * hour)},
		{"il y a 2h", ago(2 * hour)},
		{"Il y a une heure", ago(hour)},
		{"il y a une demi-heure", ago(30 * minute)},
		{"il y a une heure et demie", ago(90 * minute)},
		{"il y a 1h30", ago(90 * minute)},
		{"il y a deux heures", ago(2 * hour)},
		{"il y a vingt-cinq minutes", ago(25 * minute)},
		{"il y a quelques minutes", ago(5 * minute)},
		{"il y a un quart d'heure", ago(15 * minute)},
		{"il y a environ 20 minutes", ago(20 * minute)},
		{"ça fait 10 minutes", ago(10 * minute)},
		{"il y a 2 à 3 heures", ago(2 * hour)},
		{"depuis 14h", on(0, 14, 0)},
		{"à l'instant", now},
		{"A L'INSTANT", now},
		{"il y a un instant", now},
		{"hier", on(0, 0, 0)},
		{"il y a 2 jours", ago(48 * hour)},
		{"la semaine dernière", ago(7 * 24 * hour)},
		{"la semaine derniere", ago(7 * 24 * hour)},
		{"ce matin", on(0, 12, 0)},
		{"hier matin", on(-1, 12, 0)},

		// typos
		{"10 minuts ago", ago(10 * minute)},
		{"10 mintues ago", ago(10 * minute)},
		{"2 hous ago", ago(2 * hour)},
		{"2 hrs ago", ago(2 * hour)},
		{"2 houres ago", ago(2 * hour)},
		{"10 minuuten geleden", ago(10 * minute)},
		{"3 uren geleden", ago(3 * hour)},
		{"10 miniten geleden", ago(10 * minute)},
		{"10 minuten geleeden", ago(10 * minute)},
		{"10 minuten gelede", ago(10 * minute)},
		{"il y a 2 heurs", ago(2 * hour)},
		{"il y a 2 heurse", ago(2 * hour)},
		{"ilya 10 min", ago(10 * minute)},
		{"il ya 10 min", ago(10 * minute)},
		{"yesterdy at 18:00", on(-1, 18, 0)},
		{"gisteren om 18u", on(-1, 18, 0)},

		// clock times, earlier today
		{"at 14:00", on(0, 14, 0)},
		{"14:00", on(0, 14, 0)},
		{"14.30", on(0, 14, 30)},
		{"14h", on(0, 14, 0)},
		{"14h30", on(0, 14, 30)},
		{"14u", on(0, 14, 0)},
		{"14u30", on(0, 14, 30)},
		{"om 14u", on(0, 14, 0)},
		{"om 14.30u", on(0, 14, 30)},
		{"à 14h15", on(0, 14, 15)},
		{"a 14h15", on(0, 14, 15)},
		{"2pm", on(0, 14, 0)},
		{"2:30 pm", on(0, 14, 30)},
		{"2 p.m.", on(0, 14, 0)},
		{"9am", on(0, 9, 0)},
		{"12am", on(0, 0, 0)},
		{"9 o'clock", on(0, 9, 0)},
		{"today at 9", on(0, 9, 0)},
		{"vandaag om 9u", on(0, 9, 0)},
		{"aujourd'hui à 9h", on(0, 9, 0)},
		{"this morning at 8", on(0, 8, 0)},
		{"15:04", on(0, 15, 4)}, // within the five-minute slack
		{"om 2 uur", on(0, 14, 0)},
		{"02:00", on(0, 2, 0)},
		{"at two", on(0, 14, 0)},
		{"ik heb hem hier om 14u gekregen", on(0, 14, 0)}, // Dutch "hier" is "here"
		{"op 21.09.2026 om 14u", on(0, 14, 0)},

		// clock times that have not happened yet today mean yesterday
		{"15:06", on(-1, 15, 6)},
		{"18:00", on(-1, 18, 0)},
		{"at 9pm", on(-1, 21, 0)},
		{"yesterday at 18:00", on(-1, 18, 0)},
		{"yesterday at 9", on(-1, 9, 0)},
		{"hier à 18h", on(-1, 18, 0)},
		{"hier soir à 8h", on(-1, 20, 0)},
		{"gisteravond om 8 uur", on(-1, 20, 0)},
		{"gisteren om 10:00", on(-1, 10, 0)},
		{"eergisteren om 14u", on(-2, 14, 0)},

		// rejections
		{"", time.Time{}},
		{"I don't know", time.Time{}},
		{"no idea", time.Time{}},
		{"weet ik niet", time.Time{}},
		{"je ne sais pas", time.Time{}},
		{"10", time.Time{}},
		{"25:00", time.Time{}},
		{"14:75", time.Time{}},
		{"at 25h", time.Time{}},
		{"13pm", time.Time{}},
		{"-10 minutes ago", time.Time{}},
		{"il y a -2 heures", time.Time{}},
		{"100 days ago", time.Time{}},
		{"10 weeks ago", time.Time{}},
		{"99999999999999999999999 minutes ago", time.Time{}},
		{"3 months ago", time.Time{}},
		{"today at 18:00", time.Time{}},
		{"vandaag", time.Time{}},
		{"gisteravond", on(0, 0, 0)}, // the end of yesterday evening
		{"tout à l'heure", time.Time{}},
		{"een moment", time.Time{}},
		{"om half drie", on(0, 14, 30)}, // Dutch: half past two
		{"I would like to activate now", time.Time{}},
	})
}

// While the morning lasts, "this morning" may mean a minute ago.
func TestArrivalMorningBeforeNoon(t *testing.T) {
	loc := brussels(t)
	now := time.Date(2026, 9, 21, 8, 0, 0, 0, loc)
	runCases(t, now, loc, []arrivalCase{
		{"this morning", now},
		{"vanochtend", now},
		{"9:00", time.Date(2026, 9, 20, 9, 0, 0, 0, loc)},
		{"07:30", time.Date(2026, 9, 21, 7, 30, 0, 0, loc)},
	})
}

func TestArrivalMidnight(t *testing.T) {
	loc := brussels(t)
	now := time.Date(2026, 10, 1, 0, 20, 0, 0, loc) // just after a month boundary
	runCases(t, now, loc, []arrivalCase{
		{"23:50", time.Date(2026, 9, 30, 23, 50, 0, 0, loc)},
		{"00:10", time.Date(2026, 10, 1, 0, 10, 0, 0, loc)},
		{"30 min ago", now.Add(-30 * time.Minute)},
	})
}

// Europe/Brussels leaves summer time on the last Sunday of October
// (25 Oct 2026, 03:00 CEST -> 02:00 CET) and enters it on the last Sunday
// of March (29 Mar 2026, 02:00 CET -> 03:00 CEST).
func TestArrivalDST(t *testing.T) {
	loc := brussels(t)
	utc := func(mo time.Month, d, h, m int) time.Time { return time.Date(2026, mo, d, h, m, 0, 0, time.UTC) }

	autumn := time.Date(2026, 10, 25, 10, 0, 0, 0, loc) // 09:00 UTC
	runCases(t, autumn, loc, []arrivalCase{
		{"yesterday at 10:00", utc(10, 24, 8, 0)}, // 25 real hours earlier
		{"gisteren", time.Date(2026, 10, 25, 0, 0, 0, 0, loc)},
		{"at 01:30", utc(10, 24, 23, 30)}, // still CEST
		{"at 09:30", utc(10, 25, 8, 30)},
	})

	justAfter := time.Date(2026, 10, 25, 3, 30, 0, 0, loc) // 02:30 UTC, CET
	runCases(t, justAfter, loc, []arrivalCase{
		{"2 hours ago", utc(10, 25, 0, 30)}, // 02:30 CEST on the wall clock
		{"01:30", utc(10, 24, 23, 30)},
	})

	spring := time.Date(2026, 3, 29, 12, 0, 0, 0, loc) // 10:00 UTC
	runCases(t, spring, loc, []arrivalCase{
		{"yesterday at 12:00", utc(3, 28, 11, 0)}, // only 23 real hours earlier
		{"at 01:00", utc(3, 29, 0, 0)},            // still CET
		{"at 08:00", utc(3, 29, 6, 0)},
		{"3 hours ago", utc(3, 29, 7, 0)},
	})
}

func TestArrivalBoundaries(t *testing.T) {
	loc := brussels(t)
	now := time.Date(2026, 9, 21, 15, 0, 0, 0, loc)
	runCases(t, now, loc, []arrivalCase{
		{"60 days ago", now.Add(-60 * 24 * time.Hour)},
		{"61 days ago", time.Time{}},
		{"0 minutes ago", now},
	})
}

func TestArrivalUsesLocForResult(t *testing.T) {
	loc := brussels(t)
	now := time.Date(2026, 9, 21, 13, 0, 0, 0, time.UTC) // 15:00 in Brussels
	got, ok := Arrival("14:00", now, loc)
	want := time.Date(2026, 9, 21, 14, 0, 0, 0, loc)
	if !ok || !got.Equal(want) || got.Location() != loc {
		t.Fatalf("got %v %v, want %v in %v", got, ok, want, loc)
	}
}

func TestOSA(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"minutes", "minutes", 0},
		{"mintues", "minutes", 1},
		{"minuts", "minutes", 1},
		{"heurse", "heures", 1},
		{"hours", "house", 2},
		{"", "abc", 3},
	} {
		if got := osa(tc.a, tc.b); got != tc.want {
			t.Errorf("osa(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func FuzzArrival(f *testing.F) {
	for _, s := range []string{
		"10 minutes ago", "il y a une heure et demie", "gisteren om 18u", "14h30",
		"2:30 pm", "25:00", "anderhalf uur geleden", "yesterday at 9", "10-15 min ago",
		"-5 min", "il y a 99999999999999999999 jours", "à l'instant", "hier soir à 8h",
		"21.09.2026 14:00", "a few minutes ago", "e\u0301", "\xff\xfe",
	} {
		f.Add(s)
	}
	loc := brussels(f)
	now := time.Date(2026, 9, 21, 15, 0, 0, 0, loc)
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := Arrival(s, now, loc)
		if !ok {
			return
		}
		if got.After(now.Add(5 * time.Minute)) {
			t.Fatalf("Arrival(%q) = %v, after now+5min", s, got)
		}
		if now.Sub(got) > 60*24*time.Hour {
			t.Fatalf("Arrival(%q) = %v, older than 60 days", s, got)
		}
	})
}

// An answer is refused when it is a question, a negation or a comparison.
func TestAnswer(t *testing.T) {
	loc := brussels(t)
	now := time.Date(2026, 9, 21, 15, 0, 0, 0, loc)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"10 minutes ago", true},
		{"it came at 14:00", true},
		{"il y a 2 heures", true},
		{"why do I have to wait 3 hours?", false},
		{"what happens if I try before 3 hours", false},
		{"less than 3 hours", false},
		{"I still haven't received it after 2 days", false},
		{"toujours rien depuis 2 jours", false},
		{"niks gekregen, ik heb me gisteren ingeschreven", false},
		{"kan ik om 18u activeren", false},
		{"is it ok to try at 17h?", false},
		{"minder dan een uur geleden", false},
	} {
		if _, ok := Answer(tc.in, now, loc); ok != tc.ok {
			t.Errorf("Answer(%q) ok = %v, want %v", tc.in, ok, tc.ok)
		}
	}
}

func TestNamesArrival(t *testing.T) {
	for in, want := range map[string]bool{
		"actually it came at 11:00":  true,
		"ik heb hem om 11u gekregen": true,
		"il est arrivé à 11h":        true,
		"can I activate at 18:00":    false,
		"still 2 hours to go":        false,
		"kan ik om 18u activeren":    false,
		"je peux essayer à 17h":      false,
	} {
		if got := NamesArrival(in); got != want {
			t.Errorf("NamesArrival(%q) = %v, want %v", in, got, want)
		}
	}
}

// Parts of a day are read as their latest instant, or refused when they
// have not begun.
func TestArrivalPartsOfDay(t *testing.T) {
	loc := brussels(t)
	now := time.Date(2026, 9, 21, 15, 0, 0, 0, loc)
	runCases(t, now, loc, []arrivalCase{
		{"yesterday evening", time.Date(2026, 9, 21, 0, 0, 0, 0, loc)},
		{"hier soir", time.Date(2026, 9, 21, 0, 0, 0, 0, loc)},
		{"yesterday afternoon", time.Date(2026, 9, 20, 18, 0, 0, 0, loc)},
		{"this afternoon", now},
		{"deze namiddag", now},
		{"cet après-midi", now},
		{"this evening", time.Time{}},
		{"vanavond", time.Time{}},
	})
}

// Dutch tells the time by the next hour; bare hours read as the afternoon
// when that has passed.
func TestArrivalDutchHalfAndQuarter(t *testing.T) {
	loc := brussels(t)
	now := time.Date(2026, 9, 21, 15, 0, 0, 0, loc)
	runCases(t, now, loc, []arrivalCase{
		{"om half 3", time.Date(2026, 9, 21, 14, 30, 0, 0, loc)},
		{"kwart voor 3", time.Date(2026, 9, 21, 14, 45, 0, 0, loc)},
		{"kwart over 2", time.Date(2026, 9, 21, 14, 15, 0, 0, loc)},
		{"rond half 1", time.Date(2026, 9, 21, 12, 30, 0, 0, loc)},
		{"een half uur geleden", now.Add(-30 * time.Minute)},
	})
}

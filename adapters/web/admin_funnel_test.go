package web

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"activation-bot/storage"
	"activation-bot/storage/storagetest"
)

// strong reads a figure the page shows as <strong id="...">N</strong>.
func strong(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<strong id="` + id + `">([^<]*)</strong>`).FindStringSubmatch(body)
	require.NotNil(t, m, "no #%s on the page", id)
	return m[1]
}

// tableRow reads the cells of the row whose header is head in the table
// with id, as text.
func tableRow(t *testing.T, body, id, head string) []string {
	t.Helper()
	i := strings.Index(body, `<table id="`+id+`">`)
	require.GreaterOrEqual(t, i, 0, "no table #%s", id)
	table := body[i : i+strings.Index(body[i:], "</table>")]
	m := regexp.MustCompile(`<tr><th scope="row">` + regexp.QuoteMeta(head) + `</th>(.*?)</tr>`).FindStringSubmatch(table)
	require.NotNil(t, m, "no row %q in #%s", head, id)
	cells := regexp.MustCompile(`<td[^>]*>([^<]*)</td>`).FindAllStringSubmatch(m[1], -1)
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = c[1]
	}
	return out
}

func TestFunnelPage(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		// One student completes both accounts on the web, in English; one
		// stops at the question about e-mails in Dutch on the terminal; one
		// only said hello, in Dutch, with a name that is a script.
		s.student(Platform, "w1", "en-GB", "Eve", "hi", "!start_activation", "!emails_both", "!odisee_ready", "!odisee_done", "!kuleuven_done")
		s.student("console", "c1", "nl-BE", "Jan", "hallo", "!start_activation")
		s.student(Platform, "w2", "nl-BE", "<script>alert(1)</script>", "hallo")

		anon := s.browser()
		status, _ := anon.get("/admin/funnel")
		require.Equal(t, http.StatusSeeOther, status, "anonymous: to the login")
		status, _ = anon.get("/admin/funnel.csv")
		require.Equal(t, http.StatusSeeOther, status)
		agent := s.login("ann", storage.RoleAgent)
		status, _ = agent.get("/admin/funnel")
		require.Equal(t, http.StatusForbidden, status, "agents see no funnel")
		status, _ = agent.get("/admin/funnel.csv")
		require.Equal(t, http.StatusForbidden, status)

		admin := s.login("ada", storage.RoleAdmin)
		status, body := admin.get("/admin/funnel")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "3", strong(t, body, "students-total"))
		require.Equal(t, "1", strong(t, body, "students-completed"))
		require.Contains(t, body, `aria-current="page">Funnel`)
		require.Contains(t, body, `href="/admin/funnel.csv"`)
		require.NotContains(t, body, "<script>alert(1)</script>")

		require.Equal(t, []string{"2", "66.7%"}, tableRow(t, body, "platforms", "web"))
		require.Equal(t, []string{"1", "33.3%"}, tableRow(t, body, "platforms", "console"))
		require.Equal(t, []string{"2", "66.7%"}, tableRow(t, body, "languages", "Nederlands (nl)"))
		require.Equal(t, []string{"1", "33.3%"}, tableRow(t, body, "languages", "English (en)"))
		require.Equal(t, []string{"1", "33.3%"}, tableRow(t, body, "current-steps", "completed"))
		require.Equal(t, []string{"1", "33.3%"}, tableRow(t, body, "current-steps", "ask_emails"))
		require.Equal(t, []string{"1", "33.3%"}, tableRow(t, body, "current-steps", "greeting"))
		require.Contains(t, body, `<tr><th scope="row">ask_emails</th><td>console</td><td>nl</td><td class="num">1</td></tr>`)
		require.Contains(t, body, `<tr><th scope="row">completed</th><td>web</td><td>en</td><td class="num">1</td></tr>`)

		// The main path: all three were greeted, one went on.
		require.Contains(t, body, `<tr><th scope="row">greeting</th><td class="num">3</td>
        <td class="num">2</td><td class="num">66.7%</td></tr>`)
		require.Contains(t, body, `<tr><th scope="row">completed</th><td class="num">1</td>
        <td class="num">–</td><td class="num">–</td></tr>`)
		require.Equal(t, 2, strings.Count(body, `role="img"`), "two charts")
		for _, id := range []string{"funnel-chart", "days-chart"} {
			require.True(t, strings.Contains(body, `aria-labelledby="`+id+`-title `+id+`-desc"`) &&
				strings.Contains(body, `<title id="`+id+`-title">`) && strings.Contains(body, `<desc id="`+id+`-desc">`),
				"chart %s has a title and a description", id)
		}
		today := time.Now().In(s.Engine.Location()).Format(time.DateOnly)
		require.Regexp(t, `<tr><th scope="row">`+today+`</th><td class="num">3</td><td class="num">1</td></tr>`, body,
			"today: three new, one completed")

		// Since today: the same; since tomorrow: nobody.
		status, body = admin.get("/admin/funnel?since=" + today)
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, "3", strong(t, body, "students-total"))
		require.Contains(t, body, `href="/admin/funnel.csv?since=`+today+`"`)
		tomorrow := time.Now().In(s.Engine.Location()).AddDate(0, 0, 1).Format(time.DateOnly)
		_, body = admin.get("/admin/funnel?since=" + tomorrow)
		require.Equal(t, "0", strong(t, body, "students-total"))

		status, body = admin.get("/admin/funnel?since=next+week")
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "&#34;next week&#34; is not a date")
		require.NotContains(t, body, "students-total")
		status, _ = admin.get("/admin/funnel?since=%3Cscript%3E")
		require.Equal(t, http.StatusBadRequest, status)

		// The CSV: the same figures.
		resp, err := admin.http.Get(s.HTTP.URL + "/admin/funnel.csv")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, `attachment; filename="funnel-`+today+`.csv"`, resp.Header.Get("Content-Disposition"))
		require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
		require.NoError(t, err)
		require.Equal(t, funnelCSVHeader, rows[0])
		has := func(row ...string) {
			t.Helper()
			require.Contains(t, rows, row)
		}
		has("summary", "all", "", "", "", "students", "3")
		has("summary", "all", "", "", "", "completed", "1")
		has("funnel", "greeting", "", "", "", "reached", "3")
		has("funnel", "greeting", "", "", "", "drop_off", "2")
		has("funnel", "greeting", "", "", "", "drop_off_pct", "66.7")
		has("funnel", "completed", "", "", "", "reached", "1")
		has("platform", "web", "web", "", "", "students", "2")
		has("language", "nl", "", "nl", "", "students", "2")
		has("step_platform_language", "ask_emails", "console", "nl", "", "students", "1")
		has("account", "odisee", "", "", "", "done", "1")
		has("account", "kuleuven", "", "", "", "not_started", "2")
		has("day", "", "", "", today, "new", "3")
		has("day", "", "", "", today, "completed", "1")
		has("time_to_done", "all", "", "", "", "students", "1")
		has("proactive", "reminder", "", "", "", "sent", "0")
		for _, r := range rows {
			require.Len(t, r, len(funnelCSVHeader))
		}

		status, _ = admin.get("/admin/funnel.csv?since=2026-13-01")
		require.Equal(t, http.StatusBadRequest, status)
		_, csvBody := admin.get("/admin/funnel.csv?since=" + tomorrow)
		require.Contains(t, csvBody, "summary,all,,,,students,0\n")
	})
}

// Labels reach the page escaped, in the charts as in the tables.
func TestFunnelPageEscapesLabels(t *testing.T) {
	s := newSite(t, storagetest.Open(t, "sqlite"))
	v := funnelView{CSV: "/admin/funnel.csv", Students: 1,
		Funnel:      []funnelRow{{Node: "<script>alert(1)</script>", Reached: 1, Last: true}},
		FunnelChart: newHBarChart([]chartItem{{Label: "<script>alert(1)</script>", Value: 1}}),
		Platforms:   []countRow{{Key: "x", Label: `"><img src=x onerror=alert(1)>`, N: 1}},
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/admin/funnel", nil)
	s.Server.page(rec, req, http.StatusOK, &storage.ConsoleUser{Name: "ada", Role: storage.RoleAdmin}, "funnel",
		consoleView{Title: "Funnel", Nav: "funnel", Data: v})
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	require.NotContains(t, body, "<script>")
	require.NotContains(t, body, "<img")
	require.Equal(t, 3, strings.Count(body, "&lt;script&gt;alert(1)&lt;/script&gt;"), "in the bar's label and title and the table")
}

func TestHBarChartGeometry(t *testing.T) {
	c := newHBarChart([]chartItem{{Label: "a", Value: 40}, {Label: "b", Value: 10, Note: "(x)"}, {Label: "c"}})
	require.Len(t, c.Bars, 3)
	plot := hbarWidth - hbarLabelWidth - hbarValueRoom
	require.Equal(t, plot, c.Bars[0].Width, "the largest fills the plot")
	require.InDelta(t, plot/4, c.Bars[1].Width, 0.1, "proportional")
	require.Zero(t, c.Bars[2].Width)
	require.Equal(t, "10 (x)", c.Bars[1].Text)
	for i, b := range c.Bars {
		require.Equal(t, hbarLabelWidth, b.X)
		require.LessOrEqual(t, b.Y+b.Height, c.Height)
		if i > 0 {
			require.Greater(t, b.Y, c.Bars[i-1].Y+c.Bars[i-1].Height, "bars do not overlap")
		}
	}

	zero := newHBarChart([]chartItem{{Label: "a"}, {Label: "b"}})
	for _, b := range zero.Bars {
		require.Zero(t, b.Width, "nothing to show: no bar, no division by zero")
	}
	require.Empty(t, newHBarChart(nil).Bars)
	require.Equal(t, "abcdefghijklmnopqrstuvwxy…", newHBarChart([]chartItem{{Label: "abcdefghijklmnopqrstuvwxyz0123"}}).Bars[0].Label)
}

func TestColumnChartGeometry(t *testing.T) {
	c := newColumnChart([]string{"09-14", "09-15"}, []string{"new", "completed"}, []string{colourNew, colourCompleted},
		[][]int{{8, 2}, {4, 0}})
	require.Len(t, c.Columns, 4)
	plotH := c.Bottom - c.Top
	require.Equal(t, plotH, c.Columns[0].Height, "the largest reaches the top")
	require.Equal(t, c.Top, c.Columns[0].Y)
	require.InDelta(t, plotH/2, c.Columns[1].Height, 0.1, "completed on the 14th: half")
	require.InDelta(t, plotH/4, c.Columns[2].Height, 0.1)
	require.Zero(t, c.Columns[3].Height)
	for _, col := range c.Columns {
		require.InDelta(t, c.Bottom, col.Y+col.Height, 0.11, "columns stand on the axis")
		require.GreaterOrEqual(t, col.X, c.Left)
		require.LessOrEqual(t, col.X+col.Width, c.Right)
	}
	require.Less(t, c.Columns[0].X+c.Columns[0].Width, c.Columns[2].X+0.01, "days side by side")

	zero := newColumnChart([]string{"a", "b", "c"}, []string{"new"}, []string{colourNew}, [][]int{{0, 0, 0}})
	for _, col := range zero.Columns {
		require.Zero(t, col.Height)
	}
	require.Len(t, zero.YTicks, 1)
	require.Empty(t, newColumnChart(nil, []string{"new"}, []string{colourNew}, [][]int{{}}).Columns)

	many := make([]string, 100)
	require.LessOrEqual(t, len(newColumnChart(many, []string{"new"}, []string{colourNew}, [][]int{make([]int, 100)}).XTicks), colXLabels)
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")", "+1+1": "'+1+1", "-2+3+cmd": "'-2+3+cmd", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "-3": "-3", "-12.5": "-12.5", "greeting": "greeting", "": "", "12": "12",
	} {
		require.Equal(t, want, safeCell(in), in)
	}
}

// The funnel's figures are read at most every funnelTTL: several admins
// refreshing the page do not hold up the students.
func TestFunnelFiguresAreReusedForAWhile(t *testing.T) {
	storagetest.ForEach(t, func(t *testing.T, d storagetest.Database) {
		s := newSite(t, d)
		clock := storagetest.NewClock(time.Now())
		s.Server.now = clock.Now
		admin := s.login("ada", storage.RoleAdmin)
		s.student(Platform, "w1", "en", "", "hi")
		_, body := admin.get("/admin/funnel")
		require.Equal(t, "1", strong(t, body, "students-total"))

		s.student(Platform, "w2", "en", "", "hi")
		_, body = admin.get("/admin/funnel")
		require.Equal(t, "1", strong(t, body, "students-total"), "the same figures within the TTL")
		clock.Set(clock.Now().Add(funnelTTL))
		_, body = admin.get("/admin/funnel")
		require.Equal(t, "2", strong(t, body, "students-total"), "read again after it")
	})
}

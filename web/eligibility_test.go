package web

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// must is v, or a panic: for values written in the test itself.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Hand-picked cases with their exact API bodies and messages.
func TestEligibilityJSON(t *testing.T) {
	tests := []struct {
		campaign, birth, now string
		want                 string // JSON of APIResponse without messages
		message, messageEN   string // substrings; "" = not checked
	}{
		{"2021-07-50s", "1968-01-01", "2021-07-19T19:59:59+09:00",
			`{"eligible":false,"campaign_id":"2021-07-50s","cohort":"53~54세","cohort_id":"53-54","cohort_en":"Ages 53-54","window_opens_at":"2021-07-19T20:00:00+09:00","window_closes_at":"2021-07-20T18:00:00+09:00","next_window_opens_at":"2021-07-19T20:00:00+09:00","reason":"not_yet_open"}`,
			"1968년생은 7월 19일 20시부터 예약할 수 있습니다", "People born in 1968 can book from 20:00 on 19 July"},
		{"2021-07-50s", "1968-01-01", "2021-07-19T11:00:00Z", // 20:00 KST
			`{"eligible":true,"campaign_id":"2021-07-50s","cohort":"53~54세","cohort_id":"53-54","cohort_en":"Ages 53-54","window_opens_at":"2021-07-19T20:00:00+09:00","window_closes_at":"2021-07-20T18:00:00+09:00","next_window_opens_at":"2021-07-21T20:00:00+09:00","reason":"open"}`,
			"1968년생은 7월 20일 18시까지 예약할 수 있습니다", "until 18:00 on 20 July"},
		{"2021-07-50s", "1967-12-31", "2021-07-20T05:00:00+09:00",
			`{"eligible":true,"campaign_id":"2021-07-50s","cohort":"53~54세","cohort_id":"53-54","cohort_en":"Ages 53-54","window_opens_at":"2021-07-19T20:00:00+09:00","window_closes_at":"2021-07-20T18:00:00+09:00","next_window_opens_at":"2021-07-21T20:00:00+09:00","reason":"open"}`,
			"", ""},
		{"2021-07-50s", "1967-12-31", "2021-07-20T18:00:00+09:00",
			`{"eligible":false,"campaign_id":"2021-07-50s","cohort":"53~54세","cohort_id":"53-54","cohort_en":"Ages 53-54","window_opens_at":"2021-07-21T20:00:00+09:00","window_closes_at":"2021-07-24T18:00:00+09:00","next_window_opens_at":"2021-07-21T20:00:00+09:00","reason":"not_yet_open"}`,
			"7월 21일 20시부터", ""},
		{"2021-07-50s", "1964-06-15", "2021-07-13T20:00:00+09:00", // halted, before the reopening
			`{"eligible":false,"campaign_id":"2021-07-50s","cohort":"55~59세","cohort_id":"55-59","cohort_en":"Ages 55-59","window_opens_at":"2021-07-14T20:00:00+09:00","window_closes_at":"2021-07-24T18:00:00+09:00","next_window_opens_at":"2021-07-14T20:00:00+09:00","reason":"not_yet_open"}`,
			"", ""},
		{"2021-07-50s", "1964-06-15", "2021-07-24T18:00:00+09:00",
			`{"eligible":false,"campaign_id":"2021-07-50s","cohort":"55~59세","cohort_id":"55-59","cohort_en":"Ages 55-59","window_opens_at":null,"window_closes_at":null,"next_window_opens_at":null,"reason":"window_closed"}`,
			"7월 24일 18시에 끝났습니다", "closed at 18:00 on 24 July"},
		{"2021-07-50s", "1961-12-31", "2021-07-19T21:00:00+09:00",
			`{"eligible":false,"campaign_id":null,"cohort":null,"cohort_id":null,"cohort_en":null,"window_opens_at":null,"window_closes_at":null,"next_window_opens_at":null,"reason":"not_in_any_cohort"}`,
			"1961년생은", "People born in 1961"},
		{"2021-07-50s", "2021-07-21", "2021-07-20T21:00:00+09:00",
			`{"eligible":false,"campaign_id":null,"cohort":null,"cohort_id":null,"cohort_en":null,"window_opens_at":null,"window_closes_at":null,"next_window_opens_at":null,"reason":"birth_date_in_future"}`,
			"", "in the future"},
		{"2021-08-18-49", "1990-05-29", "2021-08-09T20:00:00+09:00",
			`{"eligible":true,"campaign_id":"2021-08-18-49","cohort":"18~49세","cohort_id":"18-49","cohort_en":"Ages 18-49","window_opens_at":"2021-08-09T20:00:00+09:00","window_closes_at":"2021-08-10T18:00:00+09:00","next_window_opens_at":"2021-08-20T20:00:00+09:00","reason":"open"}`,
			"생일 끝자리가 9인 1990년생은 8월 10일 18시까지", ""},
		{"2021-08-18-49", "1990-05-28", "2021-08-09T20:00:00+09:00",
			`{"eligible":false,"campaign_id":"2021-08-18-49","cohort":"18~49세","cohort_id":"18-49","cohort_en":"Ages 18-49","window_opens_at":"2021-08-18T20:00:00+09:00","window_closes_at":"2021-08-19T18:00:00+09:00","next_window_opens_at":"2021-08-18T20:00:00+09:00","reason":"wrong_birth_day_digit"}`,
			"지금은 생일 끝자리가 9인 분이 예약하는 시간입니다. 생일 끝자리가 8인 1990년생은 8월 18일 20시부터", "ends in 9"},
		{"2021-08-18-49", "1980-05-29", "2021-08-10T20:00:00+09:00", // missed day 9: 36-49 catch-up next
			`{"eligible":false,"campaign_id":"2021-08-18-49","cohort":"18~49세","cohort_id":"18-49","cohort_en":"Ages 18-49","window_opens_at":"2021-08-19T20:00:00+09:00","window_closes_at":"2021-08-20T18:00:00+09:00","next_window_opens_at":"2021-08-19T20:00:00+09:00","reason":"wrong_birth_day_digit"}`,
			"", ""},
		{"2021-08-18-49", "1990-05-29", "2021-08-19T21:00:00+09:00", // 36-49 catch-up open, not for 1990
			`{"eligible":false,"campaign_id":"2021-08-18-49","cohort":"18~49세","cohort_id":"18-49","cohort_en":"Ages 18-49","window_opens_at":"2021-08-20T20:00:00+09:00","window_closes_at":"2021-08-21T18:00:00+09:00","next_window_opens_at":"2021-08-20T20:00:00+09:00","reason":"not_yet_open"}`,
			"1990년생은 8월 20일 20시부터", ""},
		{"2021-08-18-49", "2003-12-31", "2021-09-18T17:59:59+09:00",
			`{"eligible":true,"campaign_id":"2021-08-18-49","cohort":"18~49세","cohort_id":"18-49","cohort_en":"Ages 18-49","window_opens_at":"2021-08-21T20:00:00+09:00","window_closes_at":"2021-09-18T18:00:00+09:00","next_window_opens_at":null,"reason":"open"}`,
			"", ""},
		{"2021-08-18-49", "2004-01-01", "2021-08-21T21:00:00+09:00",
			`{"eligible":false,"campaign_id":null,"cohort":null,"cohort_id":null,"cohort_en":null,"window_opens_at":null,"window_closes_at":null,"next_window_opens_at":null,"reason":"not_in_any_cohort"}`,
			"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.campaign+"/"+tt.birth+"@"+tt.now, func(t *testing.T) {
			c, err := booking.ShippedCampaign(tt.campaign)
			if err != nil {
				t.Fatal(err)
			}
			e := c.Eligibility(must(booking.ParseDate(tt.birth)), must(time.Parse(time.RFC3339, tt.now)))
			r := eligibilityJSON(e)
			r.Message, r.MessageEN = "", ""
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Replace(string(b), `,"message":"","message_en":""`, "", 1)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !strings.Contains(e.Message, tt.message) || !strings.Contains(e.MessageEN, tt.messageEN) {
				t.Errorf("messages %q / %q, want them to contain %q / %q", e.Message, e.MessageEN, tt.message, tt.messageEN)
			}
		})
	}
}

func TestEligibilityJSONKeys(t *testing.T) {
	c, err := booking.ShippedCampaign("2021-07-50s")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(eligibilityJSON(c.Eligibility(booking.Date{Year: 1968, Month: 1, Day: 1}, must(time.Parse(time.RFC3339, "2021-07-19T21:00:00+09:00")))))
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"eligible", "cohort", "window_opens_at", "window_closes_at", "next_window_opens_at", "reason", "message", "message_en", "cohort_id"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing from %s", k, b)
		}
	}
}

// TestEligibilityJSONSameInEveryZone: the document depends on the instant,
// not on the zone the server's clock reports it in.
func TestEligibilityJSONSameInEveryZone(t *testing.T) {
	c, err := booking.ShippedCampaign("2021-08-18-49")
	if err != nil {
		t.Fatal(err)
	}
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		la = time.FixedZone("PDT", -7*60*60)
	}
	now := must(time.Parse(time.RFC3339, "2021-08-09T20:00:00.5+09:00"))
	for _, birth := range []string{"1990-05-29", "1990-05-28", "1961-01-01", "2021-08-10"} {
		want, _ := json.Marshal(eligibilityJSON(c.Eligibility(must(booking.ParseDate(birth)), now)))
		for _, z := range []*time.Location{time.UTC, la, time.FixedZone("UTC+14", 14*60*60)} {
			got, _ := json.Marshal(eligibilityJSON(c.Eligibility(must(booking.ParseDate(birth)), now.In(z))))
			if string(got) != string(want) {
				t.Errorf("born %s, clock in %v: %s, in Seoul %s", birth, z, got, want)
			}
		}
	}
}

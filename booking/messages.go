package booking

import (
	"strconv"
	"strings"
	"time"
)

// Dose2Placeholder stands in a message body for the second-dose appointment,
// which the store chooses inside the booking (or change) transaction. The
// store replaces it (FillDose2) before it writes the message, in that
// transaction: the text is fixed when the change it reports commits, and
// a later change, with its own message, cannot alter it.
const Dose2Placeholder = "{dose2}"

// FillDose2 returns m with Dose2Placeholder replaced by b's second dose.
func FillDose2(m Message, b Booking) Message {
	if strings.Contains(m.Body, Dose2Placeholder) {
		m.Body = strings.ReplaceAll(m.Body, Dose2Placeholder, AppointmentText(b.Dose2.Date, b.Dose2.Block))
	}
	return m
}

// messageAbout is the message of kind about booking b, written at now, to
// the booking's phone.
func messageAbout(b Booking, kind, body string, now time.Time) Message {
	return Message{BookingNumber: b.Number, Kind: kind, To: b.Phone, Body: body, CreatedAt: now}
}

// AppointmentText formats a slot in Korean: "2021년 7월 26일(월) 09:00~10:00".
func AppointmentText(d Date, b TimeBlock) string {
	start, end := b.Hours()
	return d.Korean() + " " + start + "~" + end
}

// confirmationText is the message of a new booking.
func (s *Service) confirmationText(number string, c *Clinic, v *Vaccine, dose1 Slot) string {
	return bookedText("완료", number, c, v, dose1) + "\n변경·취소는 접종일 2일 전까지 가능합니다."
}

// changeText is the message of a booking moved to new slots.
func (s *Service) changeText(number string, c *Clinic, v *Vaccine, dose1 Slot) string {
	return bookedText("변경", number, c, v, dose1)
}

// bookedText lists a booking's appointments after a heading saying what
// happened to it ("완료": booked, "변경": changed).
func bookedText(what, number string, c *Clinic, v *Vaccine, dose1 Slot) string {
	return "[Sluice] 코로나19 예방접종 예약이 " + what + "되었습니다.\n" +
		"예약번호: " + number + "\n" +
		"접종기관: " + c.Name + "\n" +
		"백신: " + v.Name + "\n" +
		"1차: " + AppointmentText(dose1.Date, dose1.Block) + "\n" +
		"2차: " + Dose2Placeholder + " (같은 기관)"
}

// cancelText is the message of a cancelled booking.
func (s *Service) cancelText(b Booking) string {
	name := "접종기관 " + strconv.FormatInt(b.Dose1.ClinicID, 10)
	if c, ok := s.avail.Clinic(b.Dose1.ClinicID); ok {
		name = c.Name
	}
	return "[Sluice] 코로나19 예방접종 예약이 취소되었습니다.\n" +
		"예약번호: " + b.Number + "\n" +
		"취소된 예약: " + name + "\n" +
		"1차: " + AppointmentText(b.Dose1.Date, b.Dose1.Block) + "\n" +
		"2차: " + AppointmentText(b.Dose2.Date, b.Dose2.Block)
}

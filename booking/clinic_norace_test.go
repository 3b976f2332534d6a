//go:build !race

package booking

const clinicRaceEnabled = false

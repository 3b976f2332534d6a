package booking

// Regions and districts of the Republic of Korea.
//
// The 17 first-level divisions (시도) carry their current official names and
// 2-digit administrative codes (강원특별자치도 51 since 2023-06, 전북특별자치도
// 52 since 2024-01). Districts (시군구) are keyed by their 5-digit
// administrative code (the first five digits of the 법정동 code), using the
// current layout: 226 autonomous si/gun/gu (75 si, 82 gun, 69 gu, with 군위군
// under 대구광역시 since 2023-07), plus Jeju's two administrative cities
// (제주시, 서귀포시) and a single district for 세종특별자치시, which has no
// level below it: 229 districts in all. Non-autonomous gu inside large cities
// (수원시 장안구 and the like) are not listed; a clinic in them belongs to the
// city.
//
// Populations are approximate resident-registration figures for 2021 and are
// used only to weight generated data.

// Region is a province or metropolitan city (시도).
type Region struct {
	Code       string // 2-digit administrative code, e.g. "11"
	Name       string // official Korean name, e.g. "서울특별시"
	NameEN     string // English name, e.g. "Seoul"
	Short      string // customary short Korean name, e.g. "서울", "충북"
	ShortEN    string // short English name, e.g. "Seoul", "Chungbuk"
	Population int    // approximate, 2021
	Districts  []District
}

// District is a city, county or autonomous district (시군구).
type District struct {
	Code       string // 5-digit administrative code, e.g. "11680"
	Name       string // official Korean name, e.g. "강남구"
	NameEN     string // romanised name, e.g. "Gangnam-gu"
	Population int    // approximate, 2021
}

// Regions returns the 17 regions in the customary order (Seoul first, Jeju
// last). The returned slice is a copy; the Region values share their
// District slices with the package data, which callers must not modify.
func Regions() []Region {
	out := make([]Region, len(regionData))
	copy(out, regionData)
	return out
}

// RegionByCode returns the region with a 2-digit code such as "41". The
// result points into package data and must not be modified.
func RegionByCode(code string) (*Region, bool) {
	i, ok := regionIndex[code]
	if !ok {
		return nil, false
	}
	return &regionData[i], true
}

// DistrictByCode returns the district with a 5-digit code such as "11680",
// and its region. The results point into package data and must not be
// modified.
func DistrictByCode(code string) (*District, *Region, bool) {
	loc, ok := districtIndex[code]
	if !ok {
		return nil, nil, false
	}
	r := &regionData[loc[0]]
	return &r.Districts[loc[1]], r, true
}

var (
	regionIndex   = map[string]int{}
	districtIndex = map[string][2]int{}
)

func init() {
	for i := range regionData {
		r := &regionData[i]
		regionIndex[r.Code] = i
		for j := range r.Districts {
			districtIndex[r.Districts[j].Code] = [2]int{i, j}
		}
	}
}

var regionData = []Region{
	{"11", "서울특별시", "Seoul", "서울", "Seoul", 9_509_000, []District{
		{"11110", "종로구", "Jongno-gu", 145_000},
		{"11140", "중구", "Jung-gu", 122_000},
		{"11170", "용산구", "Yongsan-gu", 222_000},
		{"11200", "성동구", "Seongdong-gu", 287_000},
		{"11215", "광진구", "Gwangjin-gu", 340_000},
		{"11230", "동대문구", "Dongdaemun-gu", 345_000},
		{"11260", "중랑구", "Jungnang-gu", 389_000},
		{"11290", "성북구", "Seongbuk-gu", 435_000},
		{"11305", "강북구", "Gangbuk-gu", 300_000},
		{"11320", "도봉구", "Dobong-gu", 320_000},
		{"11350", "노원구", "Nowon-gu", 511_000},
		{"11380", "은평구", "Eunpyeong-gu", 475_000},
		{"11410", "서대문구", "Seodaemun-gu", 310_000},
		{"11440", "마포구", "Mapo-gu", 372_000},
		{"11470", "양천구", "Yangcheon-gu", 442_000},
		{"11500", "강서구", "Gangseo-gu", 572_000},
		{"11530", "구로구", "Guro-gu", 404_000},
		{"11545", "금천구", "Geumcheon-gu", 232_000},
		{"11560", "영등포구", "Yeongdeungpo-gu", 378_000},
		{"11590", "동작구", "Dongjak-gu", 387_000},
		{"11620", "관악구", "Gwanak-gu", 495_000},
		{"11650", "서초구", "Seocho-gu", 413_000},
		{"11680", "강남구", "Gangnam-gu", 535_000},
		{"11710", "송파구", "Songpa-gu", 660_000},
		{"11740", "강동구", "Gangdong-gu", 464_000},
	}},
	{"26", "부산광역시", "Busan", "부산", "Busan", 3_350_000, []District{
		{"26110", "중구", "Jung-gu", 40_000},
		{"26140", "서구", "Seo-gu", 105_000},
		{"26170", "동구", "Dong-gu", 88_000},
		{"26200", "영도구", "Yeongdo-gu", 111_000},
		{"26230", "부산진구", "Busanjin-gu", 360_000},
		{"26260", "동래구", "Dongnae-gu", 270_000},
		{"26290", "남구", "Nam-gu", 265_000},
		{"26320", "북구", "Buk-gu", 280_000},
		{"26350", "해운대구", "Haeundae-gu", 395_000},
		{"26380", "사하구", "Saha-gu", 310_000},
		{"26410", "금정구", "Geumjeong-gu", 225_000},
		{"26440", "강서구", "Gangseo-gu", 140_000},
		{"26470", "연제구", "Yeonje-gu", 205_000},
		{"26500", "수영구", "Suyeong-gu", 175_000},
		{"26530", "사상구", "Sasang-gu", 210_000},
		{"26710", "기장군", "Gijang-gun", 175_000},
	}},
	{"27", "대구광역시", "Daegu", "대구", "Daegu", 2_408_000, []District{
		{"27110", "중구", "Jung-gu", 77_000},
		{"27140", "동구", "Dong-gu", 343_000},
		{"27170", "서구", "Seo-gu", 165_000},
		{"27200", "남구", "Nam-gu", 145_000},
		{"27230", "북구", "Buk-gu", 425_000},
		{"27260", "수성구", "Suseong-gu", 415_000},
		{"27290", "달서구", "Dalseo-gu", 550_000},
		{"27710", "달성군", "Dalseong-gun", 262_000},
		{"27720", "군위군", "Gunwi-gun", 23_000},
	}},
	{"28", "인천광역시", "Incheon", "인천", "Incheon", 2_948_000, []District{
		{"28110", "중구", "Jung-gu", 140_000},
		{"28140", "동구", "Dong-gu", 60_000},
		{"28177", "미추홀구", "Michuhol-gu", 405_000},
		{"28185", "연수구", "Yeonsu-gu", 385_000},
		{"28200", "남동구", "Namdong-gu", 510_000},
		{"28237", "부평구", "Bupyeong-gu", 490_000},
		{"28245", "계양구", "Gyeyang-gu", 295_000},
		{"28260", "서구", "Seo-gu", 560_000},
		{"28710", "강화군", "Ganghwa-gun", 69_000},
		{"28720", "옹진군", "Ongjin-gun", 20_000},
	}},
	{"29", "광주광역시", "Gwangju", "광주", "Gwangju", 1_442_000, []District{
		{"29110", "동구", "Dong-gu", 104_000},
		{"29140", "서구", "Seo-gu", 290_000},
		{"29155", "남구", "Nam-gu", 212_000},
		{"29170", "북구", "Buk-gu", 427_000},
		{"29200", "광산구", "Gwangsan-gu", 405_000},
	}},
	{"30", "대전광역시", "Daejeon", "대전", "Daejeon", 1_452_000, []District{
		{"30110", "동구", "Dong-gu", 222_000},
		{"30140", "중구", "Jung-gu", 230_000},
		{"30170", "서구", "Seo-gu", 470_000},
		{"30200", "유성구", "Yuseong-gu", 350_000},
		{"30230", "대덕구", "Daedeok-gu", 175_000},
	}},
	{"31", "울산광역시", "Ulsan", "울산", "Ulsan", 1_122_000, []District{
		{"31110", "중구", "Jung-gu", 215_000},
		{"31140", "남구", "Nam-gu", 315_000},
		{"31170", "동구", "Dong-gu", 155_000},
		{"31200", "북구", "Buk-gu", 218_000},
		{"31710", "울주군", "Ulju-gun", 220_000},
	}},
	{"36", "세종특별자치시", "Sejong", "세종", "Sejong", 372_000, []District{
		{"36110", "세종특별자치시", "Sejong", 372_000},
	}},
	{"41", "경기도", "Gyeonggi Province", "경기", "Gyeonggi", 13_565_000, []District{
		{"41110", "수원시", "Suwon-si", 1_183_000},
		{"41130", "성남시", "Seongnam-si", 930_000},
		{"41150", "의정부시", "Uijeongbu-si", 463_000},
		{"41170", "안양시", "Anyang-si", 550_000},
		{"41190", "부천시", "Bucheon-si", 810_000},
		{"41210", "광명시", "Gwangmyeong-si", 290_000},
		{"41220", "평택시", "Pyeongtaek-si", 565_000},
		{"41250", "동두천시", "Dongducheon-si", 93_000},
		{"41270", "안산시", "Ansan-si", 650_000},
		{"41280", "고양시", "Goyang-si", 1_075_000},
		{"41290", "과천시", "Gwacheon-si", 77_000},
		{"41310", "구리시", "Guri-si", 190_000},
		{"41360", "남양주시", "Namyangju-si", 735_000},
		{"41370", "오산시", "Osan-si", 230_000},
		{"41390", "시흥시", "Siheung-si", 512_000},
		{"41410", "군포시", "Gunpo-si", 270_000},
		{"41430", "의왕시", "Uiwang-si", 160_000},
		{"41450", "하남시", "Hanam-si", 320_000},
		{"41460", "용인시", "Yongin-si", 1_075_000},
		{"41480", "파주시", "Paju-si", 480_000},
		{"41500", "이천시", "Icheon-si", 220_000},
		{"41550", "안성시", "Anseong-si", 188_000},
		{"41570", "김포시", "Gimpo-si", 485_000},
		{"41590", "화성시", "Hwaseong-si", 890_000},
		{"41610", "광주시", "Gwangju-si", 390_000},
		{"41630", "양주시", "Yangju-si", 235_000},
		{"41650", "포천시", "Pocheon-si", 148_000},
		{"41670", "여주시", "Yeoju-si", 112_000},
		{"41800", "연천군", "Yeoncheon-gun", 43_000},
		{"41820", "가평군", "Gapyeong-gun", 63_000},
		{"41830", "양평군", "Yangpyeong-gun", 118_000},
	}},
	{"51", "강원특별자치도", "Gangwon State", "강원", "Gangwon", 1_538_000, []District{
		{"51110", "춘천시", "Chuncheon-si", 285_000},
		{"51130", "원주시", "Wonju-si", 355_000},
		{"51150", "강릉시", "Gangneung-si", 212_000},
		{"51170", "동해시", "Donghae-si", 90_000},
		{"51190", "태백시", "Taebaek-si", 41_000},
		{"51210", "속초시", "Sokcho-si", 83_000},
		{"51230", "삼척시", "Samcheok-si", 64_000},
		{"51720", "홍천군", "Hongcheon-gun", 69_000},
		{"51730", "횡성군", "Hoengseong-gun", 46_000},
		{"51750", "영월군", "Yeongwol-gun", 38_000},
		{"51760", "평창군", "Pyeongchang-gun", 41_000},
		{"51770", "정선군", "Jeongseon-gun", 36_000},
		{"51780", "철원군", "Cheorwon-gun", 43_000},
		{"51790", "화천군", "Hwacheon-gun", 24_000},
		{"51800", "양구군", "Yanggu-gun", 22_000},
		{"51810", "인제군", "Inje-gun", 32_000},
		{"51820", "고성군", "Goseong-gun", 27_000},
		{"51830", "양양군", "Yangyang-gun", 28_000},
	}},
	{"43", "충청북도", "North Chungcheong Province", "충북", "Chungbuk", 1_597_000, []District{
		{"43110", "청주시", "Cheongju-si", 850_000},
		{"43130", "충주시", "Chungju-si", 210_000},
		{"43150", "제천시", "Jecheon-si", 132_000},
		{"43720", "보은군", "Boeun-gun", 32_000},
		{"43730", "옥천군", "Okcheon-gun", 50_000},
		{"43740", "영동군", "Yeongdong-gun", 46_000},
		{"43745", "증평군", "Jeungpyeong-gun", 37_000},
		{"43750", "진천군", "Jincheon-gun", 84_000},
		{"43760", "괴산군", "Goesan-gun", 37_000},
		{"43770", "음성군", "Eumseong-gun", 92_000},
		{"43800", "단양군", "Danyang-gun", 28_000},
	}},
	{"44", "충청남도", "South Chungcheong Province", "충남", "Chungnam", 2_119_000, []District{
		{"44130", "천안시", "Cheonan-si", 658_000},
		{"44150", "공주시", "Gongju-si", 104_000},
		{"44180", "보령시", "Boryeong-si", 99_000},
		{"44200", "아산시", "Asan-si", 327_000},
		{"44210", "서산시", "Seosan-si", 176_000},
		{"44230", "논산시", "Nonsan-si", 114_000},
		{"44250", "계룡시", "Gyeryong-si", 43_000},
		{"44270", "당진시", "Dangjin-si", 167_000},
		{"44710", "금산군", "Geumsan-gun", 51_000},
		{"44760", "부여군", "Buyeo-gun", 64_000},
		{"44770", "서천군", "Seocheon-gun", 51_000},
		{"44790", "청양군", "Cheongyang-gun", 31_000},
		{"44800", "홍성군", "Hongseong-gun", 98_000},
		{"44810", "예산군", "Yesan-gun", 78_000},
		{"44825", "태안군", "Taean-gun", 61_000},
	}},
	{"52", "전북특별자치도", "Jeonbuk State", "전북", "Jeonbuk", 1_787_000, []District{
		{"52110", "전주시", "Jeonju-si", 657_000},
		{"52130", "군산시", "Gunsan-si", 265_000},
		{"52140", "익산시", "Iksan-si", 280_000},
		{"52180", "정읍시", "Jeongeup-si", 107_000},
		{"52190", "남원시", "Namwon-si", 80_000},
		{"52210", "김제시", "Gimje-si", 83_000},
		{"52710", "완주군", "Wanju-gun", 92_000},
		{"52720", "진안군", "Jinan-gun", 25_000},
		{"52730", "무주군", "Muju-gun", 24_000},
		{"52740", "장수군", "Jangsu-gun", 22_000},
		{"52750", "임실군", "Imsil-gun", 27_000},
		{"52770", "순창군", "Sunchang-gun", 27_000},
		{"52790", "고창군", "Gochang-gun", 54_000},
		{"52800", "부안군", "Buan-gun", 52_000},
	}},
	{"46", "전라남도", "South Jeolla Province", "전남", "Jeonnam", 1_833_000, []District{
		{"46110", "목포시", "Mokpo-si", 220_000},
		{"46130", "여수시", "Yeosu-si", 278_000},
		{"46150", "순천시", "Suncheon-si", 280_000},
		{"46170", "나주시", "Naju-si", 116_000},
		{"46230", "광양시", "Gwangyang-si", 150_000},
		{"46710", "담양군", "Damyang-gun", 46_000},
		{"46720", "곡성군", "Gokseong-gun", 28_000},
		{"46730", "구례군", "Gurye-gun", 25_000},
		{"46770", "고흥군", "Goheung-gun", 63_000},
		{"46780", "보성군", "Boseong-gun", 40_000},
		{"46790", "화순군", "Hwasun-gun", 62_000},
		{"46800", "장흥군", "Jangheung-gun", 37_000},
		{"46810", "강진군", "Gangjin-gun", 34_000},
		{"46820", "해남군", "Haenam-gun", 67_000},
		{"46830", "영암군", "Yeongam-gun", 53_000},
		{"46840", "무안군", "Muan-gun", 90_000},
		{"46860", "함평군", "Hampyeong-gun", 32_000},
		{"46870", "영광군", "Yeonggwang-gun", 52_000},
		{"46880", "장성군", "Jangseong-gun", 45_000},
		{"46890", "완도군", "Wando-gun", 50_000},
		{"46900", "진도군", "Jindo-gun", 30_000},
		{"46910", "신안군", "Sinan-gun", 39_000},
	}},
	{"47", "경상북도", "North Gyeongsang Province", "경북", "Gyeongbuk", 2_604_000, []District{
		{"47110", "포항시", "Pohang-si", 500_000},
		{"47130", "경주시", "Gyeongju-si", 254_000},
		{"47150", "김천시", "Gimcheon-si", 140_000},
		{"47170", "안동시", "Andong-si", 157_000},
		{"47190", "구미시", "Gumi-si", 410_000},
		{"47210", "영주시", "Yeongju-si", 102_000},
		{"47230", "영천시", "Yeongcheon-si", 101_000},
		{"47250", "상주시", "Sangju-si", 95_000},
		{"47280", "문경시", "Mungyeong-si", 70_000},
		{"47290", "경산시", "Gyeongsan-si", 265_000},
		{"47730", "의성군", "Uiseong-gun", 51_000},
		{"47750", "청송군", "Cheongsong-gun", 25_000},
		{"47760", "영양군", "Yeongyang-gun", 16_000},
		{"47770", "영덕군", "Yeongdeok-gun", 36_000},
		{"47820", "청도군", "Cheongdo-gun", 42_000},
		{"47830", "고령군", "Goryeong-gun", 32_000},
		{"47840", "성주군", "Seongju-gun", 43_000},
		{"47850", "칠곡군", "Chilgok-gun", 112_000},
		{"47900", "예천군", "Yecheon-gun", 55_000},
		{"47920", "봉화군", "Bonghwa-gun", 31_000},
		{"47930", "울진군", "Uljin-gun", 48_000},
		{"47940", "울릉군", "Ulleung-gun", 9_000},
	}},
	{"48", "경상남도", "South Gyeongsang Province", "경남", "Gyeongnam", 3_314_000, []District{
		{"48120", "창원시", "Changwon-si", 1_035_000},
		{"48170", "진주시", "Jinju-si", 347_000},
		{"48220", "통영시", "Tongyeong-si", 127_000},
		{"48240", "사천시", "Sacheon-si", 110_000},
		{"48250", "김해시", "Gimhae-si", 540_000},
		{"48270", "밀양시", "Miryang-si", 104_000},
		{"48310", "거제시", "Geoje-si", 240_000},
		{"48330", "양산시", "Yangsan-si", 355_000},
		{"48720", "의령군", "Uiryeong-gun", 26_000},
		{"48730", "함안군", "Haman-gun", 63_000},
		{"48740", "창녕군", "Changnyeong-gun", 61_000},
		{"48820", "고성군", "Goseong-gun", 51_000},
		{"48840", "남해군", "Namhae-gun", 42_000},
		{"48850", "하동군", "Hadong-gun", 44_000},
		{"48860", "산청군", "Sancheong-gun", 35_000},
		{"48870", "함양군", "Hamyang-gun", 38_000},
		{"48880", "거창군", "Geochang-gun", 61_000},
		{"48890", "합천군", "Hapcheon-gun", 43_000},
	}},
	{"50", "제주특별자치도", "Jeju Province", "제주", "Jeju", 677_000, []District{
		{"50110", "제주시", "Jeju-si", 492_000},
		{"50130", "서귀포시", "Seogwipo-si", 184_000},
	}},
}

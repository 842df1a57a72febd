/// A date in the ISO-8601 week calendar: weeks start on Monday and week 1 of a year is the week
/// that holds the year's first Thursday (ISO 8601-1:2019, §5.2.4.1). Years have 52 or 53 weeks;
/// the first days of January can belong to the last week of the previous year and the last days of
/// December to week 1 of the next (2008-12-30 → 2009-W01, 2010-01-01 → 2009-W53, 2018-12-31 → 2019-W01).
///
/// Computed with integer arithmetic on the proleptic Gregorian calendar, independent of time zones
/// and locale (no `Calendar`), so every platform gives the same result.
public struct ISOWeekDate: Sendable, Hashable, CustomStringConvertible {
    /// The ISO week-numbering year (differs from the calendar year near 1 January).
    public let weekYear: Int
    /// Week of the week-numbering year, 1…53.
    public let week: Int
    /// Day of the week, 1 = Monday … 7 = Sunday.
    public let weekday: Int

    /// The ISO week date of a Gregorian calendar date; nil when the date does not exist (month 13, 30 February).
    public init?(year: Int, month: Int, day: Int) {
        guard GregorianDate.isValid(year: year, month: month, day: day) else { return nil }
        let days = GregorianDate.daysSince1970(year: year, month: month, day: day)
        // 1970-01-01 was a Thursday (ISO weekday 4).
        let weekday = ((days + 3) % 7 + 7) % 7 + 1
        let ordinal = days - GregorianDate.daysSince1970(year: year, month: 1, day: 1) + 1
        var week = (ordinal - weekday + 10) / 7
        var weekYear = year
        if week < 1 {
            weekYear = year - 1
            week = ISOWeekDate.weeksInYear(weekYear)
        } else if week > ISOWeekDate.weeksInYear(year) {
            weekYear = year + 1
            week = 1
        }
        self.weekYear = weekYear
        self.week = week
        self.weekday = weekday
    }

    /// Number of ISO weeks (52 or 53) in week-numbering year `year`: 53 when 1 January is a Thursday,
    /// or a Wednesday in a leap year.
    public static func weeksInYear(_ year: Int) -> Int {
        let jan1 = ((GregorianDate.daysSince1970(year: year, month: 1, day: 1) + 3) % 7 + 7) % 7 + 1
        return jan1 == 4 || (jan1 == 3 && GregorianDate.isLeapYear(year)) ? 53 : 52
    }

    /// `2015-W32-2`.
    public var description: String {
        let w = week < 10 ? "0\(week)" : "\(week)"
        return "\(weekYear)-W\(w)-\(weekday)"
    }
}

/// Proleptic Gregorian calendar arithmetic (days from civil, H. Hinnant, "chrono-compatible low-level
/// date algorithms").
enum GregorianDate {
    static func isLeapYear(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func isValid(year: Int, month: Int, day: Int) -> Bool {
        (1...12).contains(month) && day >= 1 && day <= daysInMonth(year: year, month: month)
    }

    /// Days from 1970-01-01 to the given date (negative before).
    static func daysSince1970(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }
}

import Foundation

/// The acquisition time of a Landsat scene in UTC, kept with its exact components.
///
/// Built from the MTL's `DATE_ACQUIRED` (`2015-08-04`) and `SCENE_CENTER_TIME` (`16:19:21.7917421Z`,
/// quoted or not, 7 fraction digits, trailing `Z` = UTC); older files name them `ACQUISITION_DATE` and
/// `SCENE_CENTER_SCAN_TIME`. The scene-centre time is the time the sensor imaged the centre of the
/// scene (Landsat 8-9 OLI/TIRS C2 L1 DFCB, LSDS-1822).
///
/// The tiling metadata use ``isoWeek`` and ``hourOfDay``; both are computed from the exact
/// components, not through `Date`, so no time zone or rounding enters.
public struct AcquisitionTime: Sendable, Hashable, CustomStringConvertible {
    public let year: Int
    /// 1…12.
    public let month: Int
    /// 1…31.
    public let day: Int
    /// 0…23, UTC.
    public let hour: Int
    /// 0…59.
    public let minute: Int
    /// 0…60 (60 only for a leap second).
    public let second: Int
    /// Fraction of the second in nanoseconds (0…999 999 999), digits beyond the ninth truncated.
    public let nanosecond: Int
    /// The fraction digits exactly as written in the MTL (`"7917421"`), empty when there were none.
    public let fractionDigits: String

    /// Validated components. Returns nil for an impossible date or time.
    public init?(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, fractionDigits: String = "") {
        guard GregorianDate.isValid(year: year, month: month, day: day),
              (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
              fractionDigits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        self.year = year; self.month = month; self.day = day
        self.hour = hour; self.minute = minute; self.second = second
        self.fractionDigits = fractionDigits
        let nine = String((fractionDigits + "000000000").prefix(9))
        self.nanosecond = Int(nine) ?? 0
    }

    /// Parses an MTL date (`YYYY-MM-DD`) and scene-centre time (`HH:MM:SS[.fraction][Z]`, optionally
    /// in double quotes). A time zone other than `Z` is refused: MTL times are UTC.
    /// Returns nil when either text is not of that form or names an impossible date or time.
    public init?(date: String, time: String) {
        let d = date.trimmingCharacters(in: CharacterSet.whitespaces.union(["\""]))
        var t = time.trimmingCharacters(in: CharacterSet.whitespaces.union(["\""]))
        if t.hasSuffix("Z") || t.hasSuffix("z") { t.removeLast() }
        let dateParts = d.split(separator: "-", omittingEmptySubsequences: false)
        guard dateParts.count == 3, dateParts[0].count == 4, dateParts[1].count == 2, dateParts[2].count == 2,
              let y = Int(dateParts[0]), let mo = Int(dateParts[1]), let da = Int(dateParts[2]) else { return nil }
        let timeParts = t.split(separator: ":", omittingEmptySubsequences: false)
        guard timeParts.count == 3, timeParts[0].count == 2, timeParts[1].count == 2,
              let h = Int(timeParts[0]), let mi = Int(timeParts[1]) else { return nil }
        let secondText = timeParts[2].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard secondText[0].count == 2, let s = Int(secondText[0]) else { return nil }
        let fraction = secondText.count == 2 ? String(secondText[1]) : ""
        guard secondText.count == 1 || !fraction.isEmpty else { return nil }
        self.init(year: y, month: mo, day: da, hour: h, minute: mi, second: s, fractionDigits: fraction)
    }

    /// Hour of day in UTC with fraction: `hour + minute/60 + (second + fraction)/3600`
    /// (16:19:21.7917421 → 16.322720…). This is the TRUE UTC hour stored in datasets.
    public var hourOfDay: Double {
        Double(hour) + Double(minute) / 60 + (Double(second) + Double(nanosecond) / 1e9) / 3600
    }

    /// The ISO-8601 week date of the UTC calendar date (see ``ISOWeekDate``).
    public var isoWeekDate: ISOWeekDate {
        // The components were validated at construction, so the date exists.
        ISOWeekDate(year: year, month: month, day: day)!
    }

    /// ISO-8601 week of the UTC date, 1…53 (2015-08-04 → 32).
    public var isoWeek: Int { isoWeekDate.week }

    /// The instant as a Foundation `Date` (resolution of `Date`'s Double seconds: about 0.2 µs today).
    public var date: Date {
        let days = GregorianDate.daysSince1970(year: year, month: month, day: day)
        let seconds = Double(days * 86_400 + hour * 3_600 + minute * 60 + second) + Double(nanosecond) / 1e9
        return Date(timeIntervalSince1970: seconds)
    }

    /// ISO-8601 text in UTC with the MTL's fraction digits: `2015-08-04T16:19:21.7917421Z`.
    public var iso8601: String { iso8601(fractionDigits: fractionDigits.count) }

    /// ISO-8601 text with `digits` fraction digits (0…9), truncated, not rounded
    /// (`iso8601(fractionDigits: 2)` → `2015-08-04T16:19:21.79Z`).
    public func iso8601(fractionDigits digits: Int) -> String {
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        let n = min(max(digits, 0), 9)
        if n > 0 { text += "." + String(pad(nanosecond, 9).prefix(n)) }
        return text + "Z"
    }

    public var description: String { iso8601 }

    /// The first day a Landsat sensor imaged the Earth: Landsat 1 launched on 1972-07-23 (USGS,
    /// "Landsat 1", landsat.gsfc.nasa.gov). Earlier acquisition dates are damage, not data.
    public static let landsatEraStart = "1972-07-23"

    /// True when the UTC calendar date is on or after ``landsatEraStart`` and not after `now`'s UTC
    /// date (a scene cannot be acquired in the future).
    public func isInLandsatEra(now: Date = Date()) -> Bool {
        let key = year * 10_000 + month * 100 + day
        guard key >= 1972_07_23 else { return false }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let today = calendar.dateComponents([.year, .month, .day], from: now)
        let todayKey = (today.year ?? 0) * 10_000 + (today.month ?? 0) * 100 + (today.day ?? 0)
        return key <= todayKey
    }
}

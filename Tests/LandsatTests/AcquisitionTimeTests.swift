import Foundation
import XCTest
@testable import Landsat

final class AcquisitionTimeTests: XCTestCase {
    func testISOWeekEdgeCases() {
        // (date, ISO week, ISO week-year) from ISO 8601's rules: Monday weeks, week 1 holds a Thursday.
        let cases: [(Int, Int, Int, Int, Int)] = [
            (2008, 12, 30, 1, 2009),
            (2010, 1, 1, 53, 2009),
            (2018, 12, 31, 1, 2019),
            (2015, 8, 4, 32, 2015),
            (2021, 1, 3, 53, 2020),
            (2021, 1, 4, 1, 2021),
            (2004, 12, 31, 53, 2004),
        ]
        for (y, m, d, week, weekYear) in cases {
            let w = ISOWeekDate(year: y, month: m, day: d)
            XCTAssertEqual(w?.week, week, "\(y)-\(m)-\(d)")
            XCTAssertEqual(w?.weekYear, weekYear, "\(y)-\(m)-\(d)")
        }
        XCTAssertEqual(ISOWeekDate(year: 2015, month: 8, day: 4)?.description, "2015-W32-2")
        XCTAssertNil(ISOWeekDate(year: 2015, month: 2, day: 29))
        XCTAssertNil(ISOWeekDate(year: 2015, month: 13, day: 1))
        XCTAssertNotNil(ISOWeekDate(year: 2016, month: 2, day: 29))
    }

    /// Our integer arithmetic agrees with Foundation's ISO-8601 calendar on every day of 1970-2040
    /// and of the Landsat 1 launch year.
    func testISOWeekAgreesWithFoundationCalendarEveryDay() throws {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = try XCTUnwrap(TimeZone(identifier: "UTC"))
        let start = try XCTUnwrap(calendar.date(from: DateComponents(year: 1970, month: 1, day: 1, hour: 12)))
        var checked = 0
        for offset in 0..<(71 * 366) {
            let date = start.addingTimeInterval(Double(offset) * 86_400)
            let c = calendar.dateComponents([.year, .month, .day, .weekOfYear, .yearForWeekOfYear, .weekday], from: date)
            guard let y = c.year, y <= 2040 else { break }
            let w = try XCTUnwrap(ISOWeekDate(year: y, month: c.month!, day: c.day!))
            if w.week != c.weekOfYear || w.weekYear != c.yearForWeekOfYear {
                XCTFail("\(y)-\(c.month!)-\(c.day!): ours \(w), Foundation \(c.yearForWeekOfYear!)-W\(c.weekOfYear!)")
                return
            }
            // Foundation weekday: 1 = Sunday … 7 = Saturday.
            XCTAssertEqual(w.weekday, (c.weekday! + 5) % 7 + 1)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 25_000)
    }

    func testHourOfDayAndDateOfThePreCollectionScene() throws {
        // LC80200392015216LGN00: DATE_ACQUIRED = 2015-08-04, SCENE_CENTER_TIME = "16:19:21.7917421Z".
        let t = try XCTUnwrap(AcquisitionTime(date: "2015-08-04", time: "\"16:19:21.7917421Z\""))
        XCTAssertEqual(t.isoWeek, 32)
        XCTAssertEqual(t.hourOfDay, 16 + 19.0 / 60 + 21.7917421 / 3600, accuracy: 1e-12)
        XCTAssertEqual(t.hourOfDay, 16.3227, accuracy: 5e-5)
        XCTAssertEqual(t.nanosecond, 791_742_100)
        XCTAssertEqual(t.fractionDigits, "7917421")
        XCTAssertEqual(t.iso8601, "2015-08-04T16:19:21.7917421Z")
        // The Date is the same instant Foundation's ISO-8601 formatter reads.
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let whole = try XCTUnwrap(formatter.date(from: "2015-08-04T16:19:21Z"))
        XCTAssertEqual(t.date.timeIntervalSince1970, whole.timeIntervalSince1970 + 0.7917421, accuracy: 1e-6)
    }

    func testTimeTextForms() throws {
        // Unquoted, no fraction, no Z, lower-case z.
        XCTAssertEqual(AcquisitionTime(date: "2019-12-01", time: "15:13:51.8610990Z")?.second, 51)
        XCTAssertEqual(AcquisitionTime(date: "2019-12-01", time: "15:13:51")?.hourOfDay ?? 0, 15 + 13.0 / 60 + 51.0 / 3600, accuracy: 1e-12)
        XCTAssertEqual(AcquisitionTime(date: "2019-12-01", time: "15:13:51.5z")?.nanosecond, 500_000_000)
        XCTAssertEqual(AcquisitionTime(date: "2019-12-01", time: "00:00:00.0000000Z")?.hourOfDay, 0)
        // Refused: impossible or malformed.
        for (d, t) in [("2019-02-30", "10:00:00Z"), ("2019-12-01", "24:00:00Z"), ("2019-12-01", "10:60:00Z"),
                       ("2019-12-01", "10:00:00+02:00"), ("2019-12-01", "10:00Z"), ("19-12-01", "10:00:00Z"),
                       ("2019-12-01", "10:00:00.Z"), ("2019-12-01", "10:00:00.12a4Z"), ("", "")] {
            XCTAssertNil(AcquisitionTime(date: d, time: t), "\(d) \(t)")
        }
    }

    /// Every real MTL's week and hour agree with Foundation's ISO calendar applied to its `Date`.
    func testEveryRealSceneWeekAndHourAgreeWithFoundation() throws {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = try XCTUnwrap(TimeZone(identifier: "UTC"))
        for file in try SharedData.allMTLFiles() {
            let t = try LandsatMetadata(contentsOf: file).acquisition
            let c = calendar.dateComponents([.weekOfYear, .hour, .minute, .second, .nanosecond], from: t.date)
            XCTAssertEqual(t.isoWeek, c.weekOfYear, file.lastPathComponent)
            let hour = Double(c.hour!) + Double(c.minute!) / 60 + (Double(c.second!) + Double(c.nanosecond!) / 1e9) / 3600
            XCTAssertEqual(t.hourOfDay, hour, accuracy: 1e-9, file.lastPathComponent)
        }
    }
}

import Foundation

/// A Landsat scene described by a STAC Item (STAC spec 1.0, Item; extensions `eo`, `raster`, `proj`,
/// `view`, `landsat`), as catalogues publish them:
/// - the USGS STAC server (collection `landsat-c2l2-sr`): asset keys `coastal`, `blue`, `red`, `nir08`…,
///   `qa_pixel`, `mtl.json`/`mtl.txt`/`mtl.xml`, hrefs on landsatlook.usgs.gov with the S3 copy in
///   `alternate.s3.href` (`s3://usgs-landsat/collection02/…`, requester-pays);
/// - stactools / Microsoft Planetary Computer (`landsat-c2-l2`): other keys (`SR_B4`, `B4`, `red`…), every
///   band asset with `eo:bands[].common_name`.
///
/// Bands are found by their `eo:bands` common name (never by asset key alone, which differs between
/// catalogues): ``commonNames`` lists them per OLI / TM band designation. Hrefs are kept as written;
/// relative ones are resolved by the caller against ``location``.
public struct STACSceneItem: Sendable {
    /// One asset of the item.
    public struct Asset: Sendable, Equatable {
        public var key: String
        /// `href` as written (relative or absolute).
        public var href: String
        /// `alternate.s3.href` (USGS items), nil otherwise.
        public var alternateS3: String?
        /// `eo:bands[].common_name` (`red`, `nir08`…), lower-cased.
        public var commonNames: [String]
        /// `eo:bands[].name` (`SR_B4`, `B4`).
        public var bandNames: [String]
        public var roles: [String]
        /// The href to read: the S3 alternate when there is one (the USGS https hrefs need an EROS login;
        /// the same objects are on the requester-pays bucket), else `href`.
        public var readHref: String { alternateS3 ?? href }
        /// The file name the href ends with (query string removed).
        public var fileName: String {
            let h = href.split(separator: "?", maxSplits: 1).first.map(String.init) ?? href
            return h.split(separator: "/").last.map(String.init) ?? h
        }
    }

    /// `eo:bands` common name of each band designation, per sensor family (USGS Landsat 8-9 and 4-7 band
    /// designations; STAC eo extension common names).
    public static func commonNames(sensor: LandsatSensor) -> [String: String] {
        switch sensor {
        case .tm, .etm:
            return ["1": "blue", "2": "green", "3": "red", "4": "nir08", "5": "swir16", "7": "swir22"]
        default:
            return ["1": "coastal", "2": "blue", "3": "green", "4": "red", "5": "nir08", "6": "swir16", "7": "swir22"]
        }
    }

    public var id: String
    /// Where the item was read (local path or URL), used for relative hrefs and messages.
    public var location: String
    /// The `self` link, when the item has one.
    public var selfHref: String?
    public var assets: [String: Asset]
    /// Every property as written.
    public var properties: [String: JSONValue]
    /// The item's `stac_extensions`: the schema URLs its prefixed properties follow.
    public var extensions: [String]

    /// The acquisition time property (`datetime`), nil when absent or null.
    public var datetime: String? { properties["datetime"]?.text }
    /// `platform` (`landsat-8`).
    public var platform: String? { properties["platform"]?.text }

    /// The properties copied to derived items: every `landsat:*` and `view:*` property.
    public var provenanceProperties: [String: JSONValue] {
        properties.filter { $0.key.hasPrefix("landsat:") || $0.key.hasPrefix("view:") }
    }

    /// The item's EPSG code: `proj:epsg` (a whole number), or `proj:code` `EPSG:n`; nil otherwise — also for a
    /// `proj:epsg` that is fractional, not finite or beyond `Int`'s range.
    public var epsg: Int? {
        if let n = properties["proj:epsg"]?.number { return Int(exactly: n) }
        if let c = properties["proj:code"]?.text, c.uppercased().hasPrefix("EPSG:") { return Int(c.dropFirst(5)) }
        return nil
    }

    /// Parses one Item object. `location` names the file or URL it came from.
    /// - Throws: ``LandsatError`` `.malformed` naming the location when it is not a STAC Item.
    public init(object o: [String: Any], location: String) throws {
        guard (o["type"] as? String) == "Feature" else {
            throw LandsatError(.malformed, path: location, "is not a STAC Item (\"type\" is \(o["type"].map { "\($0)" } ?? "missing"), expected \"Feature\")")
        }
        guard let id = o["id"] as? String, !id.isEmpty else {
            throw LandsatError(.malformed, path: location, "STAC Item has no \"id\"")
        }
        self.id = id
        self.location = location
        let props = (o["properties"] as? [String: Any]) ?? [:]
        // Decoded again with JSONDecoder: keeps booleans apart from numbers on every platform.
        properties = (try? JSONSerialization.data(withJSONObject: props)).flatMap { try? JSONDecoder().decode([String: JSONValue].self, from: $0) } ?? [:]
        extensions = (o["stac_extensions"] as? [Any])?.compactMap { $0 as? String } ?? []
        selfHref = (o["links"] as? [[String: Any]])?.first(where: { ($0["rel"] as? String) == "self" })?["href"] as? String
        guard let rawAssets = o["assets"] as? [String: Any], !rawAssets.isEmpty else {
            throw LandsatError(.malformed, path: location, "STAC Item \(id) has no assets")
        }
        var assets: [String: Asset] = [:]
        for (key, value) in rawAssets {
            guard let a = value as? [String: Any], let href = a["href"] as? String else {
                throw LandsatError(.malformed, path: location, "STAC Item \(id): asset '\(key)' has no href")
            }
            let eo = (a["eo:bands"] as? [[String: Any]]) ?? []
            let s3 = ((a["alternate"] as? [String: Any])?["s3"] as? [String: Any])?["href"] as? String
            assets[key] = Asset(key: key, href: href, alternateS3: s3,
                                commonNames: eo.compactMap { ($0["common_name"] as? String)?.lowercased() },
                                bandNames: eo.compactMap { $0["name"] as? String },
                                roles: (a["roles"] as? [String]) ?? [])
        }
        self.assets = assets
    }

    /// The asset of band `designation` (`"4"`) of a `sensor` product: by `eo:bands` common name, else
    /// by an asset key equal to the common name, else by band name (`SR_B4`/`B4` in `eo:bands`, the key
    /// or the file name). Level-2 `SR_B` names are preferred over Level-1 `B` names.
    public func bandAsset(designation: String, sensor: LandsatSensor) -> Asset? {
        let sorted = assets.values.sorted { $0.key < $1.key }
        if let common = Self.commonNames(sensor: sensor)[designation] {
            let byCommon = sorted.filter { $0.commonNames.contains(common) }
            if let a = byCommon.first(where: { !$0.roles.contains("thumbnail") && !$0.roles.contains("overview") }) ?? byCommon.first { return a }
            if let a = assets[common] { return a }
        }
        for name in ["SR_B\(designation)", "B\(designation)"] {
            if let a = sorted.first(where: { $0.bandNames.contains(name) || $0.key.uppercased() == name
                || $0.fileName.uppercased().hasSuffix("_\(name).TIF") }) { return a }
        }
        return nil
    }

    /// The pixel quality asset: key `qa_pixel` (any case), else a file named `*_QA_PIXEL.TIF`.
    public var qaPixelAsset: Asset? {
        assets.first { $0.key.lowercased() == "qa_pixel" }?.value
            ?? assets.values.sorted { $0.key < $1.key }.first { $0.fileName.uppercased().hasSuffix("_QA_PIXEL.TIF") }
    }

    /// The MTL asset: keys `mtl.txt`, `mtl.json`, `mtl.xml` (any case), else an href ending in
    /// `_MTL.txt`/`.json`/`.xml`; ODL text preferred, then JSON, then XML (as for scene folders).
    public var mtlAsset: Asset? {
        for ext in ["txt", "json", "xml"] {
            if let a = assets.first(where: { $0.key.lowercased() == "mtl.\(ext)" })?.value { return a }
        }
        for ext in ["txt", "json", "xml"] {
            if let a = assets.values.sorted(by: { $0.key < $1.key }).first(where: { $0.fileName.lowercased().hasSuffix("_mtl.\(ext)") }) {
                return a
            }
        }
        return nil
    }

    /// Landsat metadata built from the item's properties alone (no MTL asset), as an MTL document so that
    /// the same band-set and readiness rules apply (``LandsatBandSet``): `landsat:product_id` (else the
    /// id), `landsat:correction` (processing level, else the id's second field), `landsat:collection_number`,
    /// `platform`, `instruments`, `datetime`, `landsat:wrs_path`/`row`, `eo:cloud_cover`; band and QA file
    /// names are the assets' read hrefs (found with ``bandAsset(designation:sensor:)``).
    /// - Throws: ``LandsatError`` naming the item when a property needed for the acquisition time,
    ///   platform or sensor is missing.
    public func metadataFromProperties() throws -> LandsatMetadata {
        func missing(_ what: String) -> LandsatError {
            LandsatError(.missingKey, path: location, "STAC Item \(id) has no MTL asset and no \(what) property; cannot tell the product's acquisition and sensor")
        }
        guard let dt = datetime else { throw missing("datetime") }
        guard let platform = platform else { throw missing("platform") }
        guard case .array(let instrumentValues)? = properties["instruments"] else { throw missing("instruments") }
        let instruments = instrumentValues.compactMap(\.text).map { $0.uppercased() }
        let sensor = instruments.contains("OLI") ? (instruments.contains("TIRS") ? "OLI_TIRS" : "OLI")
            : instruments.contains("ETM") || instruments.contains("ETM+") ? "ETM"
            : instruments.contains("TM") ? "TM" : instruments.contains("MSS") ? "MSS" : instruments.joined(separator: "_")
        let product = properties["landsat:product_id"]?.text ?? id
        let fields = product.split(separator: "_").map(String.init)
        let level = properties["landsat:correction"]?.text ?? (fields.count > 1 ? fields[1] : "")
        guard !level.isEmpty else { throw missing("landsat:correction") }
        // datetime: 2019-12-01T15:13:51.861099Z → DATE_ACQUIRED and SCENE_CENTER_TIME.
        let parts = dt.split(separator: "T", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw LandsatError(.invalidValue, path: location, "STAC Item \(id): datetime '\(dt)' is not RFC 3339 (YYYY-MM-DDTHH:MM:SS[.f]Z)")
        }
        let g = ["LANDSAT_METADATA_FILE", "PRODUCT_CONTENTS"], im = ["LANDSAT_METADATA_FILE", "IMAGE_ATTRIBUTES"]
        var entries: [MTLDocument.Entry] = [
            .init(groups: g, key: "LANDSAT_PRODUCT_ID", value: product),
            .init(groups: g, key: "PROCESSING_LEVEL", value: level),
        ]
        if let c = properties["landsat:collection_number"]?.text, let n = Int(c) {
            entries.append(.init(groups: g, key: "COLLECTION_NUMBER", value: String(n)))
        }
        if let cat = properties["landsat:collection_category"]?.text { entries.append(.init(groups: g, key: "COLLECTION_CATEGORY", value: cat)) }
        let sensorValue = LandsatSensor(mtlValue: sensor)
        for designation in Self.commonNames(sensor: sensorValue).keys.sorted() {
            if let a = bandAsset(designation: designation, sensor: sensorValue) {
                entries.append(.init(groups: g, key: "FILE_NAME_BAND_\(designation)", value: a.readHref))
            }
        }
        if let qa = qaPixelAsset { entries.append(.init(groups: g, key: "FILE_NAME_QUALITY_L1_PIXEL", value: qa.readHref)) }
        entries += [
            .init(groups: im, key: "SPACECRAFT_ID", value: platform.uppercased().replacingOccurrences(of: "-", with: "_")),
            .init(groups: im, key: "SENSOR_ID", value: sensor),
            .init(groups: im, key: "DATE_ACQUIRED", value: parts[0]),
            .init(groups: im, key: "SCENE_CENTER_TIME", value: parts[1]),
        ]
        if let p = properties["landsat:wrs_path"]?.text { entries.append(.init(groups: im, key: "WRS_PATH", value: p)) }
        if let r = properties["landsat:wrs_row"]?.text { entries.append(.init(groups: im, key: "WRS_ROW", value: r)) }
        if let c = properties["eo:cloud_cover"]?.text { entries.append(.init(groups: im, key: "CLOUD_COVER", value: c)) }
        let doc = try MTLDocument(path: location, format: .json, entries: entries)
        return try LandsatMetadata(document: doc)
    }

    /// Where the item and its MTL disagree (the MTL wins): acquisition times more than one second apart,
    /// or an EPSG code other than the MTL's UTM zone (`EPSG:326zz`; USGS delivers southern scenes in the
    /// northern zone). One sentence per disagreement; empty when they agree.
    public func disagreements(with mtl: LandsatMetadata) -> [String] {
        var out: [String] = []
        if let dt = datetime, let item = Self.parseSeconds(dt) {
            let m = mtl.acquisition
            if let mtlSeconds = Self.parseSeconds(m.iso8601), abs(mtlSeconds - item) > 1 {
                out.append("datetime \(dt) differs from the MTL's acquisition time \(m.iso8601)")
            }
        }
        if let code = epsg, let zone = mtl.projection?.utmZone, mtl.projection?.name.uppercased() == "UTM",
           code != 32600 + zone, code != 32700 + zone {
            out.append("proj:epsg \(code) differs from the MTL's UTM zone \(zone) (EPSG:326\(String(format: "%02d", zone)))")
        }
        return out
    }

    /// Seconds since 1970 of an RFC 3339 UTC time with any number of fraction digits.
    static func parseSeconds(_ text: String) -> Double? {
        var t = text
        if t.hasSuffix("+00:00") { t = String(t.dropLast(6)) + "Z" }
        guard t.hasSuffix("Z") else { return nil }
        t.removeLast()
        let (whole, fraction) = t.firstIndex(of: ".").map { (String(t[..<$0]), Double("0" + t[$0...]) ?? 0) } ?? (t, 0)
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return f.date(from: whole).map { $0.timeIntervalSince1970 + fraction }
    }
}

/// A STAC document: one Item, or an ItemCollection / FeatureCollection (saved STAC API search results)
/// whose items are parsed one by one, so that one broken item does not hide the good ones.
public enum STACDocument: Sendable {
    case item(STACSceneItem)
    /// Each feature in order: the parsed item, or why it cannot be used.
    case collection([Result<STACSceneItem, LandsatError>])

    /// True when `object` looks like STAC (a `Feature` or `FeatureCollection`), as opposed to an MTL JSON.
    public static func isSTAC(_ object: [String: Any]) -> Bool {
        let type = object["type"] as? String
        return type == "Feature" || type == "FeatureCollection"
    }

    /// Parses a STAC Item or collection read from `location`.
    /// - Throws: ``LandsatError`` `.malformed` naming the location when it is not JSON or not STAC.
    public init(data: Data, location: String) throws {
        guard let any = try? JSONSerialization.jsonObject(with: data), let o = any as? [String: Any] else {
            throw LandsatError(.malformed, path: location, "is not a JSON object (expected a STAC Item or ItemCollection)")
        }
        switch o["type"] as? String {
        case "Feature":
            self = .item(try STACSceneItem(object: o, location: location))
        case "FeatureCollection":
            guard let features = o["features"] as? [Any] else {
                throw LandsatError(.malformed, path: location, "FeatureCollection has no \"features\" array")
            }
            self = .collection(features.enumerated().map { i, f in
                let where_ = "\(location) (feature \(i + 1) of \(features.count))"
                guard let fo = f as? [String: Any] else {
                    return .failure(LandsatError(.malformed, path: where_, "is not a JSON object"))
                }
                do { return .success(try STACSceneItem(object: fo, location: location)) } catch let e as LandsatError {
                    return .failure(LandsatError(e.code, path: where_ + ((fo["id"] as? String).map { " \($0)" } ?? ""), e.message))
                } catch {
                    return .failure(LandsatError(.malformed, path: where_, "\(error)"))
                }
            })
        default:
            throw LandsatError(.malformed, path: location, "is neither a STAC Item (\"type\": \"Feature\") nor an ItemCollection (\"type\": \"FeatureCollection\")")
        }
    }
}

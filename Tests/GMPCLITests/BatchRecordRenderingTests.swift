import Foundation
import Testing
@testable import GMPCLI
import GMPRules

/// The batch record page from a document with hostile values: every value escaped, the
/// lot on every page through string-set (never a value in CSS), the review's state.
@Suite("batch record: text and HTML from the server's document")
struct BatchRecordRenderingTests {
    static let hostile = "<script>alert('x')</script> & \"quoted\""

    static func document(review current: Bool?) -> String {
        let review = current.map { current in
            """
            [{"id": 3, "reviewed_by": "qa1", "reviewed_at": "2026-12-04T10:00:00.5+00:00", "statement": \(json(hostile)),
              "document_sha256": "\(String(repeating: "ab", count: 32))", "current": \(current), "signature_id": 40,
              "printed_name": "Quinn </td> Quality", "signed_at": "2026-12-04T10:00:01.5+00:00", "meaning": "reviewed"}]
            """
        } ?? "[]"
        return """
            {"lot": {"din": "G123426000001", "keyed_id": "G123426000001X", "eye_readable": "G1234 26 000001 X",
                     "stage": "drug_product", "product_kind": "cells", "intended_use": "allogeneic", "donor_code": "D26-00001",
                     "collection_id": "C26-00001", "parent_din": null, "expires_on": "2027-12-01",
                     "created_at": "2026-11-01T08:00:00+00:00", "created_by": "op1"},
             "specification": {"id": "UC-DP@1", "code": "UC-DP", "version": 1, "title": \(json(hostile)),
                               "approved_at": "2026-10-01T08:00:00+00:00", "approved_by": "qa2"},
             "steps": [{"id": 1, "kind": "passage", "performed_at": "2026-11-02T09:00:00+00:00",
                        "recorded_at": "2026-11-02T09:05:00+00:00", "performed_by": "op1", "performer_name": \(json(hostile)),
                        "passage_number": 1, "cell_count": "2000000", "viability_percent": "92.5",
                        "population_doublings": "2", "cumulative_doublings": "4", "units": null, "unit_volume_ml": null,
                        "note": \(json(hostile)),
                        "materials": [{"material_lot": "ML26-00001", "type": "MEDIUM", "supplier": "S", "supplier_lot": \(json(hostile)),
                                       "expires_on": "2027-01-01", "quantity": "50", "unit": "mL",
                                       "used_at": "2026-11-02T09:00:00+00:00", "recorded_by": "op1"}],
                        "equipment": [{"equipment": "BSC-01", "kind": "biosafety_cabinet", "name": \(json(hostile)),
                                       "used_at": "2026-11-02T09:00:00+00:00", "recorded_by": "op1"}]}],
             "deviations": [{"id": "DEV26-00001", "kind": "deviation", "title": \(json(hostile)), "status": "open",
                             "outcome": null, "opened_at": "2026-11-03T09:00:00+00:00", "opened_by": "op1",
                             "closed_at": null, "closed_by": null}],
             "excursions": [],
             "qc": [{"test": "cd105", "name": "CD105", "method": "Flow", "limit": "≥ 95", "unit": "%", "verdict": "pass",
                     "results": [{"id": 7, "attempt": 1, "result": "98.2", "result_unit": "%", "counted": true, "analyst": "qc1", "analyst_name": "Casey Analyst",
                                  "performed_at": "2026-11-04T09:00:00+00:00", "recorded_by": "qc1", "verified_by": "qc2", "verifier_name": "Riley Reviewer",
                                  "verified_at": "2026-11-04T10:00:00+00:00", "invalidated_by": null, "deviation_id": null}]}],
             "units": [{"unit": "G123426000001-001", "container": "vial", "volume_ml": "1.5", "state": "stored",
                        "holder": \(json(hostile)), "shipment": null}],
             "custody": [{"id": 1, "unit": "G123426000001-001", "at": "2026-11-05T09:00:00+00:00", "action": "filled",
                          "state": "in_hand", "holder": "op1", "transfer_id": null, "shipment": null, "reason": \(json(hostile)),
                          "recorded_by": "op1"}],
             "signatures": [{"id": 9, "record_table": "gmp.qc_result", "record_key": "7", "signer": "qc2",
                             "printed_name": \(json(hostile)), "signed_at": "2026-11-04T10:00:00+00:00", "meaning": "reviewed",
                             "statement": null}],
             "content_sha256": "\(String(repeating: "cd", count: 32))", "status": "quarantine",
             "master_record": {"code": "UC-MSC", "version": 2}, "dispositions": [], "reviews": \(review),
             "audit": {"seq": 1234, "hash": "\(String(repeating: "ef", count: 32))"}, "issued_at": "2026-12-04T11:00:00+00:00"}
            """
    }

    static func json(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }

    @Test("every hostile value is escaped in the page; none opens markup or reaches the CSS")
    func escapesHostileValues() throws {
        let record = try BatchRecord.decode(json: Self.document(review: true))
        let page = BatchRecordRendering.html(record)
        #expect(!page.contains("<script>"))
        #expect(!page.contains("</td> Quality"))
        #expect(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"))
        #expect(page.contains("Quinn &lt;/td&gt; Quality (qa1)"))
        // The lot reaches the page margins through string-set, from the escaped header.
        #expect(page.contains("<b class=\"lotid\">G1234 26 000001 X</b>"))
        #expect(page.contains("string(lot)") && page.contains("counter(page)"))
        let style = try #require(page.range(of: "<style>").map { page[$0.upperBound...] }?.prefix { $0 != "<" })
        #expect(!style.contains("G1234"), "no value written into the CSS")
        #expect(page.contains("2026-11-02 09:00:00 UTC"), "times in UTC")
    }

    @Test("the review's state: unchanged, changed since, not reviewed on a lot made under a master")
    func reviewState() throws {
        let current = BatchRecordRendering.text(try BatchRecord.decode(json: Self.document(review: true)))
        #expect(current.contains("review         reviewed by Quinn </td> Quality (qa1), 2026-12-04 10:00:01 UTC, meaning: reviewed; the record is unchanged since"))
        let changed = BatchRecordRendering.text(try BatchRecord.decode(json: Self.document(review: false)))
        #expect(changed.contains("CHANGED since the review by Quinn"))
        let none = try BatchRecord.decode(json: Self.document(review: nil))
        #expect(BatchRecordRendering.text(none).contains("NOT REVIEWED: release waits for QA's review (gmp batch-record review G123426000001X)"))
        #expect(BatchRecordRendering.html(none).contains("NOT REVIEWED"))
        #expect(current.hasPrefix("BATCH RECORD  lot G1234 26 000001 X   status quarantine"))
        #expect(current.contains("material  ML26-00001"))
        #expect(current.contains("analyst Casey Analyst (qc1), verified by Riley Reviewer (qc2)"), "printed names in the QC summary")
    }
}

/// What a signature means (21 CFR 11.50(a)(3)): shown with the printed name and the
/// time on every display and print of the signature.
public enum SignatureMeaning: String, CaseIterable, Sendable, Codable {
    case performed, reviewed, verified, approved, released, rejected, determined, authorized, held
}

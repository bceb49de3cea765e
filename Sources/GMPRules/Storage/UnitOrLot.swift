/// What a person asks about when a command takes "UNIT|LOT" (`gmp storage find`,
/// `gmp custody history`): one unit, or every unit of a lot.
public enum UnitOrLot: Sendable, Equatable, CustomStringConvertible {
    case unit(UnitIdentifier)
    case lot(DonationIdentificationNumber)

    /// A unit id (it ends in a dash and three digits), else a lot id with its check
    /// character, as `gmp lot` takes it.
    public init(_ text: String) throws {
        self = UnitIdentifier.looksLikeUnit(text) ? .unit(try UnitIdentifier(text))
            : .lot(try DonationIdentificationNumber(keyed: text))
    }

    /// The id as stored: "G123426000001-001" or "G123426000001".
    public var stored: String {
        switch self {
        case .unit(let unit): unit.value
        case .lot(let din): din.value
        }
    }

    /// As printed for people.
    public var description: String {
        switch self {
        case .unit(let unit): unit.eyeReadable
        case .lot(let din): din.eyeReadable
        }
    }
}

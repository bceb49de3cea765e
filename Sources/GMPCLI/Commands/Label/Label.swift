import ArgumentParser

/// `gmp label`: product labels with ISBT 128 bar codes.
struct Label: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label",
        abstract: "Print product labels with ISBT 128 bar codes (label-sheet PDF or ZPL); every print is recorded.",
        discussion: """
            A label carries the ISBT 128 data structures of the lot or unit: the donation \
            identification number with its flag characters (=G12342600000194: 60 + the check \
            character's value), the product code (=<S9001V00: product description, donation \
            type, division) and the expiration date (=>026365: year and day of the year), each \
            as a Code 128 symbol and all three in one DataMatrix. Every print is an audited \
            event; printing the same lot or unit again is a reprint and needs --reason.

            The product description code of each product is the one ICCBBA assigned to the             facility, set in the configuration file's product_codes section (gmp config show             lists them). A product without one prints a placeholder (S9001 …), and its labels             say "PLACEHOLDER PRODUCT CODE — not for clinical use" (gmp help printed-documents).
            """,
        subcommands: [LabelPrint.self])
}

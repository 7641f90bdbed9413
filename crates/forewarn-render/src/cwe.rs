//! Names of common CWE entries, as the CWE list (version 4.x) gives them. CSAF requires a CWE's name beside its id,
//! and validators check the pair; a CWE not in this table is left out of the CSAF document rather than guessed.

const NAMES: &[(&str, &str)] = &[
    ("CWE-20", "Improper Input Validation"),
    ("CWE-22", "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')"),
    ("CWE-59", "Improper Link Resolution Before File Access ('Link Following')"),
    ("CWE-77", "Improper Neutralization of Special Elements used in a Command ('Command Injection')"),
    ("CWE-78", "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')"),
    ("CWE-79", "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"),
    ("CWE-89", "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"),
    ("CWE-94", "Improper Control of Generation of Code ('Code Injection')"),
    ("CWE-119", "Improper Restriction of Operations within the Bounds of a Memory Buffer"),
    ("CWE-120", "Buffer Copy without Checking Size of Input ('Classic Buffer Overflow')"),
    ("CWE-121", "Stack-based Buffer Overflow"),
    ("CWE-122", "Heap-based Buffer Overflow"),
    ("CWE-125", "Out-of-bounds Read"),
    ("CWE-190", "Integer Overflow or Wraparound"),
    ("CWE-200", "Exposure of Sensitive Information to an Unauthorized Actor"),
    ("CWE-269", "Improper Privilege Management"),
    ("CWE-287", "Improper Authentication"),
    ("CWE-306", "Missing Authentication for Critical Function"),
    ("CWE-352", "Cross-Site Request Forgery (CSRF)"),
    ("CWE-400", "Uncontrolled Resource Consumption"),
    ("CWE-416", "Use After Free"),
    ("CWE-434", "Unrestricted Upload of File with Dangerous Type"),
    ("CWE-476", "NULL Pointer Dereference"),
    ("CWE-502", "Deserialization of Untrusted Data"),
    ("CWE-611", "Improper Restriction of XML External Entity Reference"),
    ("CWE-787", "Out-of-bounds Write"),
    ("CWE-798", "Use of Hard-coded Credentials"),
    ("CWE-862", "Missing Authorization"),
    ("CWE-863", "Incorrect Authorization"),
    ("CWE-918", "Server-Side Request Forgery (SSRF)"),
];

/// The name of a CWE, when this table knows it.
pub fn name(id: &str) -> Option<&'static str> {
    NAMES.iter().find(|(i, _)| *i == id).map(|(_, n)| *n)
}

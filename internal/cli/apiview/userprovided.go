package apiview

// UserProvidedClass is what svcat shows in the class column of a
// user-provided instance (spec.userProvided), which has no class or plan.
// The parentheses keep it apart from class names: OSB asks brokers for
// CLI-friendly names, which have none.
const UserProvidedClass = "(user-provided)"

import ArgumentParser
import TernServer
@main struct Tern: ParsableCommand { func run() {} }

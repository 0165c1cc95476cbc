import TOMLKit
import X509
import NIOSSL
import NIOPosix
